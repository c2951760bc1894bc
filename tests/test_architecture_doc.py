"""docs/architecture.md, the page a newcomer reads first, names every module of the
package where it belongs, and names no module that is not there."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")


def package_rows() -> dict[str, str]:
    """Table rows by their first cell's package (``imu/pipeline/``: the row's text)."""
    rows = {}
    for line in PAGE.splitlines():
        match = re.match(r"\| `(imu/[a-z_]+/)` \|(.*)", line)
        if match:
            rows[match[1]] = match[2]
    return rows


def test_every_module_of_a_package_is_named_in_its_row_or_in_the_stages():
    rows = package_rows()
    missing = []
    packages = (ROOT / "imu").iterdir()
    for package in sorted(p for p in packages if (p / "__init__.py").exists()):
        key = f"imu/{package.name}/"
        if key == "imu/commands/":  # one module per command, named after it
            assert "`imu/commands/*.py`" in PAGE
            continue
        where = rows.get(key, "")
        if key == "imu/pipeline/":
            where += PAGE  # the stages are listed above the table, module by module
        for module in sorted(package.glob("*.py")):
            if module.name != "__init__.py" and f"`{module.name}`" not in where:
                missing.append(f"{key}{module.name}")
    assert missing == []


def test_every_module_the_page_names_exists():
    named = set(re.findall(r"`([a-z_]+\.py)`", PAGE))
    found = {p.name for folder in ("imu", "tools") for p in (ROOT / folder).rglob("*.py")}
    assert named - found == set()
