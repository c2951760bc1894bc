"""Where numba may cache compiled kernels; a throwaway folder when nowhere is writable.

numba's ``cache=True`` stores a kernel in ``__pycache__`` next to its source file, else
in the user's cache folder (``$XDG_CACHE_HOME/numba``, ``~/.cache/numba``), or in
``NUMBA_CACHE_DIR`` when set. When none of these can be written (a read-only install run
by a user without a home folder) numba refuses to define the kernel at all (a
``RuntimeError`` at import). :func:`ensure_numba_cache` checks that first, the way numba
does (create the folder, create a file in it), and otherwise points ``NUMBA_CACHE_DIR`` at
a new temporary folder, removed at exit: kernels then compile afresh in every run (the
~5 s of CPU of docs/calibration.md), and one line on stderr says so. Light: no numba import.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

_checked = False


def _writable(folder: str | os.PathLike) -> bool:
    try:
        os.makedirs(folder, exist_ok=True)
        tempfile.TemporaryFile(dir=folder).close()
    except OSError:
        return False
    return True


def _user_cache() -> Path | None:
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "numba"
    if sys.platform.startswith("win"):
        return None  # numba's Windows locations are not probed (always assumed usable)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "numba"


def ensure_numba_cache() -> None:
    """Before the first kernel module is imported: make sure numba has a cache folder."""
    global _checked
    if _checked:
        return
    _checked = True
    package = Path(__file__).resolve().parent
    in_tree = [package / "__pycache__",
               *(d / "__pycache__" for d in package.iterdir() if (d / "__init__.py").is_file())]
    if all(_writable(folder) for folder in in_tree):
        return
    user = _user_cache()
    given = os.environ.get("NUMBA_CACHE_DIR")
    if user is None or (given and _writable(given)) or _writable(user):
        return
    fallback = tempfile.mkdtemp(prefix="imu-numba-")
    atexit.register(shutil.rmtree, fallback, ignore_errors=True)
    os.environ["NUMBA_CACHE_DIR"] = fallback
    config = sys.modules.get("numba.core.config")  # numba already loaded: its copy too
    if config is not None:
        config.CACHE_DIR = fallback
    print(f"imu: note: no writable folder for numba's cache (next to {package}, {user}"
          f"{', ' + given if given else ''}); compiling for this run only (set "
          "NUMBA_CACHE_DIR to a writable folder to keep the compiled kernels)", file=sys.stderr)
