"""The firmware notes cannot drift from the code: tables and examples checked against it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from imu.ble import openimu_codec as oc

NOTES = Path(__file__).resolve().parents[1] / "firmware_notes"
SPEC = NOTES / "open-profile.md"
PAGES = sorted(NOTES.rglob("*.md"))


def spec_text() -> str:
    return SPEC.read_text(encoding="utf-8")


def throughput_table() -> list[tuple[int, dict[int, tuple[int, int]]]]:
    """Rows of the spec's throughput table: (rate_hz, {mtu: (samples, notifications/s)})."""
    text = spec_text()
    head = re.search(r"^\| rate \| MTU (\d+) .*\| MTU (\d+) .*\| MTU (\d+) .*$", text, re.MULTILINE)
    assert head is not None, "throughput table header missing"
    mtus = [int(m) for m in head.groups()]
    rows = []
    for line in re.findall(r"^\| (\d+) Hz \|(.*)$", text, re.MULTILINE):
        rate, cells = int(line[0]), line[1].split("|")[:3]
        pairs = [tuple(int(x) for x in re.findall(r"(\d+)", cell)[:2]) for cell in cells]
        rows.append((rate, dict(zip(mtus, pairs))))
    assert len(rows) == 4
    return rows


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(NOTES)))
def test_relative_links_resolve(page: Path) -> None:
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
        if "://" not in target:
            assert (page.parent / target).exists(), f"{page.name}: broken link {target}"


def _table_fields(heading: str) -> list[tuple[int, int, str]]:
    text = spec_text()
    section = text[text.index(heading) :]
    rows = re.findall(r"^\| (\d+) \| (\d+) \| \w+ \| `(\w+)` \|", section, re.MULTILINE)
    fields, seen = [], set()
    for offset, size, name in rows:
        if name in seen:  # the next table starts
            break
        seen.add(name)
        fields.append((int(offset), int(size), name))
    return fields


def test_data_header_table_is_contiguous_and_matches_the_codec() -> None:
    fields = _table_fields("## Data packet")
    assert [name for *_, name in fields] == [
        "version", "count", "sequence", "device_time_us", "ranges", "flags", "rate_dhz"
    ]  # fmt: skip
    end = 0
    for offset, size, _ in fields:
        assert offset == end
        end += size
    assert end == oc.HEADER_SIZE


def test_config_table_is_contiguous_and_matches_the_codec() -> None:
    fields = _table_fields("## Configuration characteristic")
    assert [name for *_, name in fields] == [
        "version", "command", "rate_dhz", "ranges", "max_latency_ms"
    ]  # fmt: skip
    assert sum(size for _, size, _ in fields) == oc.CONFIG_SIZE


def test_config_example_decodes_to_what_the_page_says() -> None:
    match = re.search(r"Example: start at 104 Hz.*?`([0-9a-f ]+)`", spec_text())
    assert match is not None
    config = oc.decode_config(bytes.fromhex(match.group(1)))
    assert config == oc.Config(True, 104.0, acc_range_code=2, gyr_range_code=4, max_latency_ms=40)


def test_count_sizes_in_range_table() -> None:
    text = spec_text()
    for full_scale in oc.ACC_RANGES_G:
        assert f"{1000 * full_scale / 32768:.3g} mg" in text
    for full_scale in oc.GYR_RANGES_DEG_S:
        assert f"{full_scale / 32768:.4g} °/s" in text


def test_throughput_table_follows_mtu_and_latency_rule() -> None:
    """n = min(samples that fit the MTU, samples taken in 50 ms + 1); rate / n per second."""
    for rate, cells in throughput_table():
        for mtu, (n, per_s) in cells.items():
            expected = min(oc.max_samples_per_notification(mtu), int(rate * 0.05) + 1)
            assert n == expected, (rate, mtu)
            assert per_s == round(rate / n), (rate, mtu)


def test_mtu_statements_match_the_codec() -> None:
    text = spec_text()
    assert f"MTU ≥ {oc.MIN_MTU}" in text
    assert f"min({oc.MAX_SAMPLES}, (MTU − 15) // 12)" in text
