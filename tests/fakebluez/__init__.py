"""A fake BlueZ on a private D-Bus for testing the real bleak code path without a radio.

See /work/shared/notes/ble-testing.md for what bleak needs and docs/live.md for how the
live tests use it.
"""

from .bus import dbus_daemon_available
from .fake import FakeBluez
from .service import CharSpec, DeviceSpec

__all__ = ["CharSpec", "DeviceSpec", "FakeBluez", "dbus_daemon_available"]
