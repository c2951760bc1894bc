"""`imu scan` through unmodified bleak and the fake BlueZ."""

from __future__ import annotations

import pytest

from imu.cli import main
from tests.fakebluez import DeviceSpec, FakeBluez
from tests.fakebluez.devices import movesense_spec, witmotion_spec

pytestmark = pytest.mark.dbus  # skipped where there is no dbus-daemon: tests/conftest.py


@pytest.fixture
def fake(monkeypatch):
    with FakeBluez() as fake:
        monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", fake.address)
        yield fake


def test_scan_lists_recognised_devices_and_unknown_ones_only_with_all(fake, capsys):
    fake.add_device(witmotion_spec("C4:00:00:00:00:01", rssi=-60))
    fake.add_device(movesense_spec("0C:8C:DC:00:00:01"))
    fake.add_device(DeviceSpec("11:22:33:44:55:66", "Kettle", {}, rssi=-30))
    assert main(["scan", "--timeout", "0.5"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    assert {line.split()[3] for line in lines[:2]} == {"witmotion", "movesense"}
    assert lines[2] == "(1 other device not shown; --all lists them)"
    assert main(["scan", "--timeout", "0.5", "--all"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1].startswith("11:22:33:44:55:66") and lines[-1].endswith("-              Kettle")


def test_scan_with_nothing_recognised_says_so(fake, capsys):
    fake.add_device(DeviceSpec("11:22:33:44:55:66", "Kettle", {}))
    assert main(["scan", "--timeout", "0.3"]) == 0
    assert capsys.readouterr().out == (
        "no supported IMU found in 0.3 s (1 other device seen; --all lists them)\n"
    )


def test_no_bluetooth_is_one_line_error(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", f"unix:path={tmp_path}/no-bus")
    assert main(["scan", "--timeout", "0.3"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("imu scan: error: Bluetooth is not available") and "\n" not in err
    assert main(["scan", "--timeout", "0"]) == 2
    assert "--timeout must be positive" in capsys.readouterr().err
