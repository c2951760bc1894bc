"""A private D-Bus daemon of type "system" on a unix socket in a temporary directory.

bleak talks to BlueZ over the system bus; pointing ``DBUS_SYSTEM_BUS_ADDRESS`` at this
daemon lets unmodified bleak reach the fake ``org.bluez`` of :mod:`tests.fakebluez.service`.
Needs ``/usr/bin/dbus-daemon`` (Debian package ``dbus``).
"""

import select
import shutil
import subprocess
import tempfile
from pathlib import Path

_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow send_type="method_call"/>
    <allow receive_type="*"/>
  </policy>
</busconfig>
"""


def dbus_daemon_available() -> bool:
    return shutil.which("dbus-daemon") is not None


class PrivateSystemBus:
    """Start/stop a ``dbus-daemon`` whose address is :attr:`address`."""

    def __init__(self) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="fakebluez-")
        self.socket = Path(self._tmp.name) / "system_bus_socket"
        self.address = f"unix:path={self.socket}"
        self._process: subprocess.Popen | None = None

    def start(self) -> "PrivateSystemBus":
        """Start the daemon; returns once it accepts connections (it prints its address)."""
        config = Path(self._tmp.name) / "system.conf"
        config.write_text(_CONFIG.format(socket=self.socket), encoding="utf-8")
        self._process = subprocess.Popen(
            [
                "dbus-daemon",
                "--nofork",
                "--nopidfile",
                "--print-address",
                f"--config-file={config}",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert self._process.stdout is not None
        ready = select.select([self._process.stdout], [], [], 5.0)[0]
        line = self._process.stdout.readline().decode() if ready else ""
        if not line.startswith("unix:"):
            self._process.kill()
            err = self._process.stderr.read().decode() if self._process.stderr else ""
            self.stop()
            raise RuntimeError(f"dbus-daemon did not start: {err.strip() or 'timeout'}")
        return self

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            for pipe in (self._process.stdout, self._process.stderr):
                if pipe:
                    pipe.close()
            self._process = None
        self._tmp.cleanup()
