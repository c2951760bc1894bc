"""`imu scan`: list nearby BLE IMUs and the device profile each was recognised as."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--timeout",
        type=float,
        default=5.0,
        metavar="S",
        help="seconds to listen for advertisements (default 5)",
    )
    parser.add_argument(
        "--all",
        action="store_true",
        help="also list devices that match no supported profile",
    )


def run(args: argparse.Namespace) -> int:
    import asyncio

    from imu.ble.scan import bluetooth_errors, scan
    from imu.errors import input_error
    from imu.text import plural

    if not args.timeout > 0:
        raise input_error(f"--timeout must be positive, got {args.timeout:g}")
    with bluetooth_errors():
        found = asyncio.run(scan(args.timeout))
    shown = found if args.all else [f for f in found if f.profile is not None]
    for device in shown:
        profile = device.profile.name if device.profile else "-"
        print(f"{device.address}  {device.rssi_dbm:>4d} dBm  {profile:<14} {device.name or ''}")
    hidden = len(found) - len(shown)
    if not shown:
        print(f"no supported IMU found in {args.timeout:g} s", end="")
        others = plural(hidden, "other device")
        print(f" ({others} seen; --all lists them)" if hidden else "")
    elif hidden:
        print(f"({plural(hidden, 'other device')} not shown; --all lists them)")
    return 0
