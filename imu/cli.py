"""Command-line entry point: a thin layer over the library.

Each command lives in ``imu/commands/<name>.py`` and provides
``add_arguments(parser)`` and ``run(args) -> int``. Those modules import heavy
libraries (numpy, pandas, scikit-learn, bleak) inside ``run`` only, and only the chosen
command's module is imported, so ``imu --help`` stays fast.

Exit: when :func:`main` runs as the process's entry point (``argv`` None: the ``imu``
script, ``python -m imu``) the process ends right after it, and :func:`_before_exit` lets
the interpreter skip the collection of every object it ever made (see there).
"""

from __future__ import annotations

import argparse
import errno
import gc
import importlib
import sys

from imu import __version__
from imu.errors import ImuError

# name -> one-line purpose (shown by `imu --help`). Order is the order of a user's day.
COMMANDS: dict[str, str] = {
    "scan": "list nearby BLE IMUs and the device profile each was recognised as",
    "live": "stream a BLE IMU: calibrate, show flexion, count reps, alert on flagged reps, record",
    "replay": "play a recorded session through the live engine, display and alerts",
    "analyze": "measure a session: calibration, flexion angles, reps, sets and flags",
    "batch": "measure many recordings (folders, globs) into reps/sessions/errors tables, on all cores or a Dask cluster",
    "report": "write a self-contained HTML report (plots, reps, sets, insights) for sessions",
    "convert": "convert other apps' exports (phyphox, Sensor Logger, MetaBase, WitMotion, Polar, "
    "Movella DOT) to the session CSV",
    "label": "write every detected rep as an editable labels CSV row for review and retraining",
    "train": "train the rounded-back classifier on labelled reps, with grouped cross-validation",
    "evaluate": "score a trained model on labelled reps it has not seen",
    "simulate": "write synthetic deadlift or squat sessions with ground truth "
    "(biomechanical simulator)",
}


def _command_lines(width: int) -> str:
    """The command list of ``imu --help``, each purpose folded at spaces to ``width``
    columns under its own start (a terminal cut it mid-word at column 80)."""
    import textwrap

    return "\n".join(
        textwrap.fill(purpose, max(width, 40), initial_indent=f"  {name:<10} ",
                      subsequent_indent=" " * 13)
        for name, purpose in COMMANDS.items()
    )  # fmt: skip


def _top_parser() -> argparse.ArgumentParser:
    import shutil

    lines = _command_lines(shutil.get_terminal_size().columns - 2)  # argparse's own margin
    parser = argparse.ArgumentParser(
        prog="imu",
        description="Watch a lifter's lower back with one commodity BLE IMU.",
        epilog=f"commands:\n{lines}\n\nRun 'imu COMMAND --help' for a command's options.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        usage="imu [-h] [--version] COMMAND ...",
    )
    parser.add_argument("--version", action="version", version=f"imu {__version__}")
    parser.add_argument(
        "command", nargs="?", metavar="COMMAND", choices=list(COMMANDS), help="one listed below"
    )
    parser.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    return parser


def command_parser(name: str) -> tuple[argparse.ArgumentParser, object]:
    """Build the parser of one command (imports only that command's light module)."""
    module = importlib.import_module(f"imu.commands.{name}")
    parser = argparse.ArgumentParser(prog=f"imu {name}", description=COMMANDS[name])
    module.add_arguments(parser)
    return parser, module


def main(argv: list[str] | None = None) -> int:
    """Run one command; the exit status. ``argv`` None: this process's arguments, and the
    caller ends the process with the status (the ``imu`` script, ``python -m imu``)."""
    status = _main(list(sys.argv[1:] if argv is None else argv))
    if argv is None:
        _before_exit()
    return status


def _before_exit() -> None:
    """Spare the interpreter's teardown the garbage collection of every object (~0.5-1.5 s).

    At exit CPython clears each module and runs the cyclic garbage collector over every
    object it holds: after ``imu analyze`` of an hour's recording (numpy, pandas and numba
    loaded) that took about 0.6 s, 1.0-1.6 s with scikit-learn loaded too (models other
    than the calibrated logistic one), against 0.06-0.12 s after :func:`gc.freeze`, which
    moves every live object to the permanent generation that those collections skip; the
    OS reclaims the memory (benchmarks/bench_pipeline.py, row "(b) exit").

    Nothing is lost: atexit handlers still run, ``sys.stdout``/``sys.stderr`` are still
    flushed, non-daemon threads are still joined, and an object outside reference cycles
    is still finalised when the module holding it is cleared. Objects that only a
    reference cycle keeps (garbage or not) are not finalised, which Python never promises
    at exit anyway (``object.__del__``); no output here relies on it: every command closes
    what it writes before it returns (``with`` blocks; the live/replay runner closes its
    sinks in a ``finally``, the recorder's :class:`imu.session.SessionWriter` flushes and
    fsyncs). tests/test_cli_exit.py checks the files a finished process leaves;
    tests/test_live_cli.py the recording of an interrupted ``imu live --record``. A full
    ``gc.collect()`` first would finalise the garbage cycles but costs 0.2-0.3 s
    (argparse's parsers are all it finds after ``imu analyze``).
    """
    gc.freeze()


def _main(argv: list[str]) -> int:
    top = _top_parser()
    ns = top.parse_args(argv[:1] if argv and not argv[0].startswith("-") else argv)
    if ns.command is None:
        top.print_help()
        return 0
    parser, module = command_parser(ns.command)
    args = parser.parse_args(argv[1:])
    try:
        return int(module.run(args) or 0)
    except ImuError as exc:
        print(f"imu {ns.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"imu {ns.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return _reader_gone()
    except SystemExit as exc:
        if isinstance(exc.__context__, BrokenPipeError):  # rich's Console on a closed pipe
            return _reader_gone()
        raise
    except OSError as exc:  # EIO on a terminal that hung up (`script -c 'imu ...' | head`)
        from imu.fileio import is_terminal

        if exc.errno == errno.EIO and is_terminal(sys.stdout):
            return _reader_gone()
        raise


def _reader_gone() -> int:
    """The reader of stdout went away (``imu analyze f | head -1``, a terminal that hung
    up): exit 0, quietly. stdout now points at /dev/null, so the interpreter's last flush
    has nowhere to fail."""
    from imu.fileio import silence_stdout

    silence_stdout()
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
