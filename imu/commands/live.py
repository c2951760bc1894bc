"""`imu live`: stream a BLE IMU through the engine to the display, alerts and files.

Also holds what `imu replay` shares with it (the session options, the engine and sinks
wiring, running with Ctrl-C handling), so both commands behave the same.
"""

from __future__ import annotations

import argparse
from typing import Any

from imu.commands.options import (
    add_measurement_arguments,
    add_model_arguments,
    check_output,
    classifier_from_args,
    engine_settings_from_args,
)


def add_session_arguments(parser: argparse.ArgumentParser) -> None:
    """Options shared by `imu live` and `imu replay`: model, outputs, alerts, measurement."""
    add_model_arguments(parser)
    parser.add_argument(
        "--no-display",
        action="store_true",
        help="no live screen: print one line per event (for piping and logs)",
    )
    parser.add_argument(
        "--events", metavar="FILE", help="write every event as one JSON object per line"
    )
    parser.add_argument("--force", action="store_true", help="overwrite existing output files")
    parser.add_argument(
        "--alert-command",
        metavar="CMD",
        help="run CMD on each alert instead of the terminal bell, without waiting for it "
        "('{kind}' is replaced by the alert kind), e.g. 'paplay /usr/share/sounds/bell.oga'. "
        "CMD is split into words like a shell line but NOT run through a shell: "
        "redirections, pipes and ';' are refused; for them give "
        "\"sh -c 'paplay bell.oga >>cues.log 2>&1'\" (docs/live.md)",
    )
    add_measurement_arguments(parser)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--device",
        metavar="ADDRESS|NAME",
        help="BLE address or advertised name (default: the one supported IMU nearby; "
        "asks when there are several)",
    )
    parser.add_argument(
        "--profile",
        metavar="P",
        help="device profile when the device is not recognised (see 'imu scan --all')",
    )
    parser.add_argument(
        "--rate",
        type=float,
        metavar="HZ",
        help="sampling rate to configure (default: the profile's default)",
    )
    parser.add_argument(
        "--record",
        metavar="FILE",
        help="record the raw samples to this session CSV, flushed every second",
    )
    parser.add_argument(
        "--scan-timeout",
        type=float,
        default=8.0,
        metavar="S",
        help="seconds to look for the device (default 8)",
    )
    add_session_arguments(parser)


def check_outputs(
    args: argparse.Namespace, inputs: tuple[str, ...] = (), **paths: str | None
) -> None:
    """Fail before connecting or loading if an output cannot be written (``option=path``;
    see :func:`imu.commands.options.check_output`)."""
    for option, path in paths.items():
        check_output(path, f"--{option}", force=args.force, inputs=inputs)


def build_engine(args: argparse.Namespace, sampling_rate_hz: float) -> Any:
    """The engine with the measurement options and ``--model`` (as `imu analyze` builds it)."""
    import sys

    from imu.model.lifts import lift_note
    from imu.pipeline import Engine
    from imu.pipeline.fusion import warm_up

    classifier, _ = classifier_from_args(args)
    warm_up()  # the kernels now, not mid-stream at the end of calibration (a false gap)
    settings = engine_settings_from_args(args, sampling_rate_hz)
    note = lift_note(settings.reps.lift, getattr(classifier, "manifest", None))
    if note:
        print(f"imu: warning: {note}", file=sys.stderr)
    return Engine(settings, classifier)


def model_threshold(engine: Any) -> float | None:
    """The classifier's threshold (shown beside every probability); None without a model."""
    threshold = getattr(getattr(engine.segmenter, "classifier", None), "threshold", None)
    return None if threshold is None else float(threshold)


def build_sinks(
    args: argparse.Namespace,
    title: str,
    recording: tuple[str, dict[str, Any]] | None = None,
    *,
    timeline: Any = None,
    threshold: float | None = None,
    sound: bool = True,
) -> list[Any]:
    """Display or line output, alert sound, and the files asked for.

    ``recording``: ``(path, metadata)`` for ``--record``. The recorder comes first so a
    sample is on its way to disk before anything else handles it. ``timeline``: how
    times are shown (:class:`imu.text.Timeline`); ``threshold``: the model's, shown
    beside probabilities; ``sound`` False: no bell and no ``--alert-command``
    (``replay --fast``).
    """
    from imu.sinks.alerts import AlertSound
    from imu.sinks.events import EventLog
    from imu.sinks.lines import LineOutput
    from imu.sinks.recorder import Recorder

    sinks: list[Any] = []
    if recording is not None:
        sinks.append(Recorder(recording[0], recording[1], force=args.force))
    if args.events:
        sinks.append(EventLog(args.events, force=args.force))
    console = None
    if args.no_display:
        sinks.append(LineOutput(timeline=timeline, threshold=threshold))
    else:
        from imu.sinks.display import Display

        display = Display(
            title,
            flexion_limit_deg=args.flexion_limit_deg,
            timeline=timeline,
            threshold=threshold,
        )
        sinks.append(display)
        console = display.console  # the bell through it: stderr is caught by the display
    # a bad --alert-command fails even if silent
    alert_sound = AlertSound(args.alert_command, console=console)
    if sound:
        sinks.append(alert_sound)
    return sinks


HUNG_UP = "ended: the terminal hung up"
"""``ended_by`` of a session the terminal's hangup (SIGHUP) ended (:func:`run_session`)."""


def run_session(
    source: Any, engine: Any, sinks: list[Any], stopped_word: str = "interrupted"
) -> dict[str, Any]:
    """Run source -> engine -> sinks; Ctrl-C (or SIGTERM) ends it cleanly with a summary
    (``session {stopped_word}: ...``). SIGHUP (the terminal went away: a closed window or
    ssh session, ``script -c 'imu replay f' | head``) ends it the same way, as a reader
    gone: stdout (and stderr when a terminal) point at /dev/null, files are closed and the
    summary says ``session ended: the terminal hung up``.

    The process's SIGINT, SIGTERM and SIGHUP handlers are as before once it returns
    (asyncio's loop, closing, would set Python's defaults, whatever the caller had: an
    ignored SIGINT, its own SIGTERM handler)."""
    import asyncio
    import signal

    from imu.sinks.runner import Runner

    runner = Runner(source, engine, sinks, stopped_word=stopped_word)

    async def main() -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        presses = 0

        def interrupt() -> None:
            nonlocal presses
            presses += 1
            if presses == 1:
                runner.stop()  # finish what was received, then summarise
            elif task is not None:
                task.cancel()  # a second Ctrl-C: stop waiting for the link to close

        def hang_up() -> None:
            from imu.fileio import silence_stdout

            silence_stdout(stderr_too=True)  # nobody reads the terminal: no EIO from it
            runner.stopped_word = HUNG_UP
            runner.stop()

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, interrupt)
        if hangup is not None and previous[hangup] is not signal.SIG_IGN:  # nohup: go on
            loop.add_signal_handler(hangup, hang_up)
        return await runner.run()

    hangup = getattr(signal, "SIGHUP", None)  # not on Windows
    held = (signal.SIGINT, signal.SIGTERM, *([hangup] if hangup is not None else []))
    previous = {sig: signal.getsignal(sig) for sig in held}
    try:
        return asyncio.run(main())
    finally:
        for sig, handler in previous.items():
            if handler is not None and signal.getsignal(sig) is not handler:  # None: set in C
                signal.signal(sig, handler)


def run(args: argparse.Namespace) -> int:
    import asyncio
    import datetime
    import sys

    from imu.ble.connection import BleConnection
    from imu.ble.scan import bluetooth_errors, find, profile_by_name, scan, select_device
    from imu.ble.source import BleSource
    from imu.errors import DeviceError, input_error

    if not args.scan_timeout > 0:
        raise input_error(f"--scan-timeout must be positive, got {args.scan_timeout:g}")
    if args.rate is not None and not 0 < args.rate < float("inf"):
        raise input_error(f"--rate must be a positive number of Hz, got {args.rate:g}")
    engine_settings_from_args(args)  # bad measurement options fail before any scan
    check_outputs(args, record=args.record, events=args.events)
    progress = sys.stderr.isatty()  # scan and connect are quiet in pipes and logs
    with bluetooth_errors():
        looking = args.device or "a supported IMU"
        if progress:
            print(f"looking for {looking} (up to {args.scan_timeout:g} s)...", file=sys.stderr)
        if args.device:
            device = asyncio.run(find(args.device, args.scan_timeout))
            if device is None:
                raise DeviceError(
                    f"{args.device} did not advertise within {args.scan_timeout:g} s (is it on, "
                    "in range and not connected to another app? 'imu scan --all' lists devices)"
                )
        else:
            found = asyncio.run(scan(args.scan_timeout))
            ask = _prompt if sys.stdin.isatty() and sys.stdout.isatty() else None
            device = select_device(found, args.scan_timeout, ask)
    profile = profile_by_name(args.profile) if args.profile else device.profile
    if profile is None:
        raise DeviceError(
            f"{device.describe()} matches no supported profile; name one with --profile "
            "(see 'imu scan --all' and docs/devices.md)"
        )
    rate_hz = profile.choose_rate(args.rate)
    if progress:
        print(
            f"connecting to {device.name or device.address} ({device.address}, profile "
            f"{profile.name}, {rate_hz:g} Hz)...",
            file=sys.stderr,
        )
    source = BleSource(BleConnection(device.address, profile, rate_hz), name=device.name)
    engine = build_engine(args, rate_hz)
    recording = None
    if args.record:
        started = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        recording = (args.record, {**source.metadata, "started_utc": started})
    from imu.text import Timeline

    sinks = build_sinks(
        args,
        f"imu live - {source.device}",
        recording,
        timeline=Timeline.host_clock(),
        threshold=model_threshold(engine),
    )
    run_session(source, engine, sinks, stopped_word="stopped")  # Ctrl-C is how live ends
    return 0


def _prompt(candidates: list[Any]) -> Any:
    """Ask which of several IMUs to use (interactive terminals only)."""
    from imu.errors import DeviceError

    for i, device in enumerate(candidates, 1):
        print(f"  {i}. {device.describe()}")
    answer = input(f"which IMU [1-{len(candidates)}]? ").strip()
    if not answer.isdigit() or not 1 <= int(answer) <= len(candidates):
        raise DeviceError(f"no IMU chosen ('{answer}'); pass --device ADDRESS")
    return candidates[int(answer) - 1]
