"""Device profiles fed the makers' own documented bytes: replies, settings and frames.

Every byte string below is a fact with its source named beside it. Where a maker gives
only values (not bytes), the bytes are laid out by the documented format and say so.
The fake devices (tests/fakebluez/devices.py) are checked against the same facts, so a
live test against them exercises what the devices really send.
"""

from __future__ import annotations

import numpy as np
import pytest

from imu.ble.profiles import PROFILES
from imu.ble.profiles.polar import (
    CONTROL_UUID,
    DATA_UUID,
    ControlReply,
    parse_settings,
)
from imu.errors import DeviceError
from tests.fakebluez import devices as fd

G = 9.80665
H10 = PROFILES["polar-h10"]
VERITY = PROFILES["polar-verity"]

# PMD specification (polar-ble-sdk technical_documentation): the H10's reply to "start
# ACC" is F0 02 02 00 00 01; the last byte is reserved. Real captures show the same.
H10_START_ACC_REPLY = bytes.fromhex("f0 02 02 00 00 01")

# polar-ble-sdk, Android unit test BlePmdClientPmdSettingsTest.testPmdSettingsWithRange:
# rate 52 Hz, resolution 16, range {245, 500, 1000, 2000}, channels 3.
SDK_SETTINGS_WITH_RANGE = bytes.fromhex(
    "00 01 34 00 01 01 10 00 02 04 f5 00 f4 01 e8 03 d0 07 04 01 03"
)
# same file, testPmdSettingWithRangeMilliUnit: range in milli-units {-1, 255} (4 bytes,
# signed), resolution 14.
SDK_SETTINGS_MILLIUNIT = bytes.fromhex("03 02 ff ff ff ff ff 00 00 00 01 01 0e 00")

# online-measurement document: start Verity Sense ACC at 52 Hz, 16 bit, 8 g, 3 channels.
VERITY_START_ACC_52 = "02 02 00 01 34 00 01 01 10 00 02 01 08 00 04 01 03"
# PMD specification: start H10 ACC at 200 Hz, 16 bit, 8 g (no CHANNELS on the H10).
H10_START_ACC_200 = "02 02 00 01 c8 00 01 01 10 00 02 01 08 00"


def settings_reply(measurement: int, settings: bytes) -> bytes:
    """``F0 01 <type> 00 00`` + settings: a successful "get settings" reply."""
    return bytes((0xF0, 0x01, measurement, 0, 0)) + settings


# --- 1. the H10's start reply with its reserved byte ------------------------------------
def test_h10_start_reply_with_the_reserved_byte_is_success_without_settings():
    reply = ControlReply.parse(H10_START_ACC_REPLY)
    assert (reply.op, reply.measurement, reply.status, reply.settings) == (2, 2, 0, {})
    (start,) = H10.start(200.0)
    H10.check_reply(start, H10_START_ACC_REPLY)  # no DeviceError
    # the decoder reads control replies too: the reply leaves it working
    decoder = H10.new_decoder(200.0)
    assert decoder.feed(H10_START_ACC_REPLY, CONTROL_UUID) == []


def test_a_parameter_field_of_one_byte_holds_no_settings_as_in_the_sdk():
    # PmdSetting.kt returns no settings for a parameter field of <= 1 byte
    assert parse_settings(b"") == {} and parse_settings(b"\x01") == {}
    assert fd.polar_reply("Polar H10 8A1B2C3D", bytes.fromhex(H10_START_ACC_200)) == (
        H10_START_ACC_REPLY
    )


# --- settings as the SDK's own unit tests read them --------------------------------------
def test_settings_vectors_of_the_sdk_unit_tests():
    assert parse_settings(SDK_SETTINGS_WITH_RANGE) == {
        0: [52],
        1: [16],
        2: [245, 500, 1000, 2000],
        4: [3],
    }
    assert parse_settings(SDK_SETTINGS_MILLIUNIT) == {3: [-1, 255], 1: [14]}


def test_security_setting_of_sixteen_bytes_is_read():
    # SECURITY is id 6 with 16-byte values (PmdSetting.kt typeToFieldSize); this reply is
    # laid out by that format: rate 52 Hz, then one 16-byte security value.
    key = bytes(range(16))
    reply = ControlReply.parse(settings_reply(2, bytes.fromhex("00 01 34 00 06 01") + key))
    assert reply.settings == {0: [52], 6: [int.from_bytes(key, "little")]}


# --- 2. start commands from the settings the device offers --------------------------------
def test_fake_settings_tables_hold_the_documented_values():
    assert parse_settings(fd.H10_ACC_SETTINGS) == {0: [25, 50, 100, 200], 1: [16], 2: [2, 4, 8]}
    sdk_rates = [26, 52, 104, 208, 416]
    assert parse_settings(fd.VERITY_SDK_ACC_SETTINGS) == {
        0: sdk_rates,
        1: [16],
        2: [2, 4, 8, 16],
        4: [3],
    }
    assert parse_settings(fd.VERITY_SDK_GYRO_SETTINGS) == {
        0: sdk_rates,
        1: [16],
        2: [250, 500, 1000, 2000],
        4: [3],
    }


def test_verity_start_carries_the_channels_its_settings_reply_lists():
    replies = [
        fd.polar_reply("Polar Sense B5A3C925", bytes.fromhex("02 09")),
        settings_reply(2, fd.VERITY_SDK_ACC_SETTINGS),
        settings_reply(5, fd.VERITY_SDK_GYRO_SETTINGS),
    ]
    acc, gyro = VERITY.start(52.0, replies)
    assert acc.data.hex(" ") == VERITY_START_ACC_52
    assert gyro.data.hex(" ") == "02 05 00 01 34 00 01 01 10 00 02 01 d0 07 04 01 03"
    assert acc.what == "start accelerometer 52 Hz, 16 bit, 8 g"
    # the fake Verity accepts exactly these (and refuses the start without CHANNELS)
    for write in (acc, gyro):
        assert fd.polar_reply("Polar Sense B5A3C925", write.data)[3] == 0
    no_channels = bytes.fromhex(VERITY_START_ACC_52)[:-3]
    assert fd.polar_reply("Polar Sense B5A3C925", no_channels)[3] == fd.POLAR_INVALID_PARAMETER


def test_h10_start_from_its_settings_reply_has_no_channels():
    (start,) = H10.start(200.0, [settings_reply(2, fd.H10_ACC_SETTINGS)])
    assert start.data.hex(" ") == H10_START_ACC_200
    # CHANNELS sent to an H10 is refused with error 5 (invalid parameter), as reported
    with_channels = bytes.fromhex(H10_START_ACC_200 + " 04 01 03")
    refusal = fd.polar_reply("Polar H10 8A1B2C3D", with_channels)
    with pytest.raises(DeviceError, match="invalid parameter"):
        H10.check_reply(start, refusal)


def test_a_rate_the_device_does_not_offer_is_a_one_line_error():
    # outside SDK mode the Verity Sense offers 52 Hz only (SdkModeExplained.md)
    with pytest.raises(DeviceError, match=r"offers its accelerometer at 52 Hz, not 104 Hz"):
        VERITY.start(104.0, [settings_reply(2, fd.VERITY_ACC_SETTINGS)])


def test_a_range_the_device_does_not_offer_falls_back_to_its_widest():
    # laid out by the settings format: rates 25-200 Hz, 16 bit, ranges 2 and 4 g only
    offers = bytes.fromhex("00 04 1900 3200 6400 c800 01 01 1000 02 02 0200 0400")
    (start,) = H10.start(100.0, [settings_reply(2, offers)])
    assert start.data.hex(" ") == "02 02 00 01 64 00 01 01 10 00 02 01 04 00"
    assert start.what.endswith("4 g")


# --- 3. Verity raw ACC frame type 0 is in g ---------------------------------------------
def test_raw_acc_type0_is_g_on_the_verity_and_milli_g_on_the_h10():
    # online-measurement document, Table 7: raw ACC type 0 (int8 per axis) is in "G for
    # Verity Sense, mG for other devices". Frame: 02 | ts 1.0 s | 00 | (1, -1, 0)
    frame = bytes.fromhex("02 00ca9a3b00000000 00 01 ff 00")
    verity = VERITY.new_decoder(52.0)
    assert verity.feed(frame, DATA_UUID) == []  # held until the gyroscope reaches its time
    # a compressed gyro frame at the same time: reference sample (0, 0, 0) only
    (merged,) = verity.feed(bytes.fromhex("05 00ca9a3b00000000 80 0000 0000 0000"), DATA_UUID)
    got_mg = H10.new_decoder(100.0).feed(frame, DATA_UUID)[0].samples
    np.testing.assert_allclose(merged.samples[0, 1:4], [G, -G, 0.0])
    np.testing.assert_allclose(got_mg[0, 1:4], [G / 1000, -G / 1000, 0.0])
