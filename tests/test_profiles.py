"""Device profiles: recognition, configuration/start/stop bytes, control-point replies.

Command bytes are written out by hand from the vendors' documented layouts (see the
profile modules' docstrings); the Polar examples are the ones in the PMD documentation.
"""

from __future__ import annotations

import pytest

from imu.ble.profiles import PROFILES, Profile, Write, recognise
from imu.ble.profiles.base import normalise_uuid
from imu.errors import DeviceError

PMD_SERVICE = "FB005C80-02E7-F387-1CAD-8ACD2D8DF0C8"


@pytest.mark.parametrize(
    ("name", "uuids", "expected"),
    [
        ("WT901BLE68", [], "witmotion"),
        ("BWT901BLECL5.0", [], "witmotion"),
        (None, ["0000ffe5-0000-1000-8000-00805f9a34fb"], "witmotion"),
        ("Polar Sense B5A1C42F", [PMD_SERVICE], "polar-verity"),
        ("Polar H10 8C4CA82E", [PMD_SERVICE], "polar-h10"),
        ("Polar H10 8C4CA82E", [], "polar-h10"),
        ("Thingy", [], "thingy52"),
        (None, ["ef680400-9b35-4933-9b10-52ffa9740042"], "thingy52"),
        ("Movesense 174630000192", [], "movesense"),
        ("OpenIMU-3F2A", [], "openimu"),
        (None, ["af5e0001-f579-4cea-b679-7a7de096440c"], "openimu"),
    ],
)
def test_recognise(name, uuids, expected):
    assert recognise(name, uuids).name == expected


def test_unknown_devices_and_the_witmotion_base_uuid_quirk():
    assert recognise("Mi Smart Band 5", ["0000fee0-0000-1000-8000-00805f9b34fb"]) is None
    assert recognise(None, []) is None
    # 16-bit shorthand 'ffe5' expands on the Bluetooth base ...9b34fb: not WitMotion's
    assert normalise_uuid("ffe5") == "0000ffe5-0000-1000-8000-00805f9b34fb"
    assert recognise(None, ["ffe5"]) is None


def test_registry_is_consistent():
    assert set(PROFILES) == {
        "witmotion",
        "polar-verity",
        "polar-h10",
        "thingy52",
        "movesense",
        "openimu",
    }
    for key, profile in PROFILES.items():
        assert isinstance(profile, Profile) and profile.name == key
        assert profile.default_rate_hz in profile.supported_rates_hz
        for uuid in (*profile.service_uuids, *profile.notify_uuids, profile.write_uuid):
            assert uuid == normalise_uuid(uuid) and len(uuid) == 36
        assert profile.caveats
    assert not PROFILES["polar-h10"].has_gyro
    assert all(p.has_gyro for k, p in PROFILES.items() if k != "polar-h10")


def test_unsupported_rate_is_a_device_error_naming_the_choices():
    with pytest.raises(DeviceError, match=r"cannot stream at 150 Hz.*10, 20, 50, 100, 200"):
        PROFILES["witmotion"].configure(150.0)
    assert PROFILES["polar-h10"].choose_rate(None) == 100.0


def hexes(writes: list[Write]) -> list[str]:
    return [w.data.hex(" ") for w in writes]


def test_witmotion_rate_commands():
    writes = PROFILES["witmotion"].configure(100.0)
    # unlock FF AA 69 88 B5, rate register 0x03 <- 0x09 (100 Hz), save FF AA 00 00 00
    assert hexes(writes) == ["ff aa 69 88 b5", "ff aa 03 09 00", "ff aa 00 00 00"]
    assert {w.char_uuid for w in writes} == {"0000ffe9-0000-1000-8000-00805f9a34fb"}
    assert hexes(PROFILES["witmotion"].configure(200.0))[1] == "ff aa 03 0b 00"
    assert PROFILES["witmotion"].start(100.0) == []


def test_polar_h10_start_matches_the_pmd_documentation_example():
    assert hexes(PROFILES["polar-h10"].prepare(200.0)) == ["01 02"]
    (start,) = PROFILES["polar-h10"].start(200.0)
    # ACC 200 Hz (C8 00), 16 bit (10 00), range 8 g (08 00); no CHANNELS on the H10
    assert start.data.hex(" ") == "02 02 00 01 c8 00 01 01 10 00 02 01 08 00"
    assert start.reply_uuid == "fb005c81-02e7-f387-1cad-8acd2d8df0c8"
    assert hexes(PROFILES["polar-h10"].stop()) == ["03 02"]


def test_polar_verity_starts_sdk_mode_reads_settings_then_starts_acc_and_gyro():
    profile = PROFILES["polar-verity"]
    assert hexes(profile.prepare(52.0)) == ["02 09", "01 02", "01 05"]
    # without settings replies: the documented defaults, CHANNELS 3 included
    assert hexes(profile.start(52.0)) == [
        "02 02 00 01 34 00 01 01 10 00 02 01 08 00 04 01 03",
        # the documentation's gyro example: 52 Hz, 16 bit, 2000 deg/s (D0 07)
        "02 05 00 01 34 00 01 01 10 00 02 01 d0 07 04 01 03",
    ]
    assert hexes(profile.stop()) == ["03 05", "03 02", "03 09"]


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        ("f0 02 02 08 00", "invalid sample rate"),
        ("f0 02 02 0d 00", "charger"),
        ("f0 02 02 03 00", "not supported"),
        ("f0 02 02 63 00", "error code 99"),
        ("f0 02 05 00 00", "does not answer"),  # a reply to another measurement
        ("0f 06", "unreadable"),
    ],
)
def test_polar_control_point_failures_become_device_errors(reply, message):
    profile = PROFILES["polar-verity"]
    acc_start = profile.start(104.0)[0]
    with pytest.raises(DeviceError, match=message):
        profile.check_reply(acc_start, bytes.fromhex(reply))


def test_polar_control_point_successes():
    profile = PROFILES["polar-verity"]
    sdk = profile.prepare(104.0)[0]
    acc, _ = profile.start(104.0)
    profile.check_reply(acc, bytes.fromhex("f0 02 02 00 00 05 01 00 00 80 3f"))
    profile.check_reply(sdk, bytes.fromhex("f0 02 09 00 00"))
    profile.check_reply(sdk, bytes.fromhex("f0 02 09 06 00"))  # SDK mode already on


def test_thingy52_config_write():
    (write,) = PROFILES["thingy52"].configure(50.0)
    # <HHHHB: pedometer 1000 ms, temperature 1000 ms, compass 1000 ms, 50 Hz, wake on motion 1
    assert write.data.hex(" ") == "e8 03 e8 03 e8 03 32 00 01"
    assert write.char_uuid == "ef680401-9b35-4933-9b10-52ffa9740042"


def test_movesense_hello_subscribe_unsubscribe():
    profile = PROFILES["movesense"]
    hello, subscribe = profile.start(104.0)
    assert hello.data == bytes([0, 0x48]) and hello.reply_uuid == profile.notify_uuids[0]
    assert subscribe.data == bytes([1, 0x63]) + b"/Meas/IMU6/104"
    assert hexes(profile.stop()) == ["02 63"]
    profile.check_reply(hello, b"\x01\x48Hello")
    with pytest.raises(DeviceError, match="gatt_sensordata_app"):
        profile.check_reply(hello, b"")


def test_openimu_start_and_stop_config():
    profile = PROFILES["openimu"]
    (start,) = profile.start(104.0)
    # version 1, command 1 (start), 1040 dHz = 10 04, ranges acc 2 | gyro 3 << 4 = 32, 40 ms
    assert start.data.hex(" ") == "01 01 10 04 32 28"
    (stop,) = profile.stop()
    assert stop.data[1] == 0
