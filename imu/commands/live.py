"""`imu live` (not yet implemented)."""

from __future__ import annotations

import argparse

from imu.errors import ImuError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    raise ImuError("'imu live' is not implemented yet")
