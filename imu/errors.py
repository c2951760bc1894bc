"""Errors that reach the user as one line (exit status 2), never as a traceback."""

from __future__ import annotations


class ImuError(Exception):
    """Base class for every error the CLI reports as one line and exit status 2."""

    exit_code = 2


class InputError(ImuError):
    """Bad input data: a file, a column, a value. Message names file, line, column and a fix.

    Build with :func:`input_error` to get the house format
    ``FILE:LINE: column 'acc_x': what is wrong (what to do)``.
    """


class ModelError(ImuError):
    """A model file that cannot be used (unknown types, wrong manifest, incompatible)."""


class DeviceError(ImuError):
    """A BLE device problem the user can act on (not found, refused, wrong profile)."""


def input_error(
    message: str,
    *,
    path: str | None = None,
    line: int | None = None,
    column: str | None = None,
    hint: str | None = None,
) -> InputError:
    """Format an :class:`InputError` as ``path:line: column 'c': message (hint)``."""
    where = ""
    if path is not None:
        where = str(path)
        if line is not None:
            where += f":{line}"
        where += ": "
    col = f"column '{column}': " if column else ""
    tail = f" ({hint})" if hint else ""
    return InputError(f"{where}{col}{message}{tail}")
