"""Device decoders on byte vectors written out by hand from the documented layouts.

Each vector's bytes are derived in the comment next to it (little-endian unless noted);
the expected numbers are the layouts' scale factors applied by hand. Fuzzing of the
decoders lives in tests/test_decoders_fuzz.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from imu.ble.profiles import PROFILES, DecodeError
from imu.ble.profiles.base import STANDARD_GRAVITY as G
from imu.ble.profiles.movesense import DATA_UUID as MOVESENSE_DATA
from imu.ble.profiles.polar import CONTROL_UUID, DATA_UUID

NAN3 = [math.nan] * 3


def rows(frames):
    """All samples of a list of frames as one (n, 7) array."""
    return np.concatenate([f.samples for f in frames]) if frames else np.empty((0, 7))


def check(actual, expected):
    np.testing.assert_allclose(actual, np.asarray(expected, dtype=float), rtol=0, atol=1e-9)


# --- WitMotion --------------------------------------------------------------------------
# 55 61 | acc x 0x0800=2048 -> 2048/32768*16 = 1 g | y 0xF800=-2048 -> -1 g | z 0x0400=1024
# -> 0.5 g | gyro x 0x0064=100 -> 100/32768*2000 = 6.103515625 deg/s | y 0xFF9C=-100 | z
# 0x4000=16384 -> 1000 deg/s | roll, pitch, yaw 0
WIT = bytes.fromhex("5561 0008 00f8 0004 6400 9cff 0040 0000 0000 0000")
WIT_ROW = [math.nan, G, -G, 0.5 * G, 6.103515625, -6.103515625, 1000.0]
# a register read reply (55 71 + 18 bytes), skipped whole
WIT_REPLY = bytes.fromhex("5571 0300 0900" + "00" * 14)


def wit_decoder():
    return PROFILES["witmotion"].new_decoder(100.0)


def test_witmotion_whole_packet():
    frames = wit_decoder().feed(WIT)
    assert len(frames) == 1 and frames[0].sequence is None and frames[0].lost_before == 0
    check(frames[0].samples, [WIT_ROW])


@pytest.mark.parametrize("cut", [1, 2, 7, 19])
def test_witmotion_packet_split_across_notifications(cut):
    decoder = wit_decoder()
    assert decoder.feed(WIT[:cut]) == []
    check(rows(decoder.feed(WIT[cut:])), [WIT_ROW])


def test_witmotion_merged_packets_garbage_and_register_replies():
    decoder = wit_decoder()
    # garbage (including a 0x55 not followed by 0x61), a packet, a register reply, a
    # packet, and the first 5 bytes of a third packet
    stream = bytes.fromhex("00 55 12 aa") + WIT + WIT_REPLY + WIT + WIT[:5]
    check(rows(decoder.feed(stream)), [WIT_ROW, WIT_ROW])
    check(rows(decoder.feed(WIT[5:])), [WIT_ROW])


def test_witmotion_counts_garbage_bytes_once_in_step():
    decoder = wit_decoder()
    # the first notification starts inside a packet (subscribed mid-stream): not garbage
    decoder.feed(WIT[7:] + WIT)
    assert decoder.n_skipped_bytes == 0
    decoder.feed(bytes.fromhex("00 55 12 aa") + WIT + WIT_REPLY)  # 4 bytes of garbage
    assert decoder.n_skipped_bytes == 4
    decoder.feed(bytes.fromhex("5562") + WIT[2:] + WIT)  # a wrong header: 20 bytes skipped
    assert decoder.n_skipped_bytes == 24


def test_witmotion_lone_header_byte_waits_for_the_next_notification():
    decoder = wit_decoder()
    assert decoder.feed(b"\x55") == []
    check(rows(decoder.feed(WIT[1:])), [WIT_ROW])


# --- Polar PMD ----------------------------------------------------------------------------
# timestamp 1_000_000_000 ns = 0x3B9ACA00 -> u64 LE 00 ca 9a 3b 00 00 00 00 (1.0 s)
TS_1S = "00ca9a3b00000000"
# 1_020_000_000 ns = 0x3CCBF700; 2_000_000_000 ns = 0x77359400
TS_1_02S = "00f7cb3c00000000"
TS_2S = "0094357700000000"


def h10_decoder():
    return PROFILES["polar-h10"].new_decoder(100.0)


def test_polar_h10_raw_int16_frame_spread_back_from_last_sample():
    # 02 ACC | ts | 01 = raw int16 mG | (1000, 0, -1000) | (0, 500, 300)
    frame = bytes.fromhex("02" + TS_1S + "01" + "e803 0000 18fc" + "0000 f401 2c01")
    out = h10_decoder().feed(frame, DATA_UUID)
    check(
        rows(out),
        [[0.99, G, 0, -G, *NAN3], [1.00, 0, 0.5 * G, 0.3 * G, *NAN3]],
    )


@pytest.mark.parametrize(
    ("frame_type", "payload", "expected_mg"),
    [
        ("00", "0a f6 64", [10, -10, 100]),  # int8
        ("02", "e80300 18fcff 000000", [1000, -1000, 0]),  # int24
    ],
)
def test_polar_raw_int8_and_int24_frames(frame_type, payload, expected_mg):
    out = h10_decoder().feed(bytes.fromhex("02" + TS_1S + frame_type + payload), DATA_UUID)
    check(rows(out), [[1.0, *(np.array(expected_mg) / 1000 * G), *NAN3]])


def test_polar_timestamps_follow_the_device_and_fall_back_to_nominal_after_a_gap():
    decoder = h10_decoder()
    two = "e803 0000 0000" * 2
    decoder.feed(bytes.fromhex("02" + TS_1S + "01" + two), DATA_UUID)
    # next frame 20 ms later with 2 samples: interval (1.02 - 1.00)/2 = 10 ms = nominal
    check(
        rows(decoder.feed(bytes.fromhex("02" + TS_1_02S + "01" + two), DATA_UUID))[:, 0],
        [1.01, 1.02],
    )
    # after a gap: (2.00 - 1.02)/2 = 490 ms is not the nominal 10 ms -> spread at 10 ms
    check(
        rows(decoder.feed(bytes.fromhex("02" + TS_2S + "01" + two), DATA_UUID))[:, 0], [1.99, 2.00]
    )


# Verity Sense gyro, delta compressed (frame type 0x80), 16-bit reference:
# ref (100, -200, 300) = 6400 38ff 2c01
# block: width 4, count 2, deltas (1, -1, 2), (-3, 0, 7) packed LSB first:
#   byte0 = -1 (0xF) << 4 | 1 = f1, byte1 = -3 (0xD) << 4 | 2 = d2, byte2 = 7 << 4 | 0 = 70
# -> samples (100, -200, 300), (101, -201, 302), (98, -201, 309), x factor 0.5
GYRO_DELTA = "6400 38ff 2c01" + "04 02 f1d270"
# start reply for GYRO: F0 02 05 status 00 more 00 | setting 5 (factor) count 1 f32 0.5
GYRO_FACTOR_REPLY = bytes.fromhex("f0020500 00 05 01 0000003f")
# Verity ACC, delta compressed type 1 (0x81), mG x factor (1.0 without a reply):
# ref (0, 0, 1000) = 0000 0000 e803; block width 2, count 2, deltas (1, 0, -1), (0, 1, -1)
# 2-bit codes 01 00 11 00 | 01 11 -> byte0 = 0b00110001 = 31, byte1 = 0b00001101 = 0d
ACC_DELTA = "0000 0000 e803" + "02 02 310d"


def verity_decoder():
    return PROFILES["polar-verity"].new_decoder(104.0)


def test_polar_verity_merges_acc_and_gyro_frames_on_the_device_clock():
    decoder = verity_decoder()
    assert decoder.feed(GYRO_FACTOR_REPLY, CONTROL_UUID) == []
    # the accelerometer frame alone cannot be emitted: no gyro sample covers it yet
    assert decoder.feed(bytes.fromhex("02" + TS_1S + "81" + ACC_DELTA), DATA_UUID) == []
    out = rows(decoder.feed(bytes.fromhex("05" + TS_1S + "80" + GYRO_DELTA), DATA_UUID))
    t = 1.0 - np.array([2, 1, 0]) / 104.0
    check(
        out,
        [
            [t[0], 0, 0, 1.000 * G, 50.0, -100.0, 150.0],
            [t[1], 0.001 * G, 0, 0.999 * G, 50.5, -100.5, 151.0],
            [t[2], 0.001 * G, 0.001 * G, 0.998 * G, 49.0, -100.5, 154.5],
        ],
    )


def test_polar_delta_block_with_bit_width_crossing_bytes():
    # width 3, count 1, deltas (1, -2, 3): bits 100 011 110 (LSB first) -> f1 00
    decoder = verity_decoder()
    decoder.feed(bytes.fromhex("05" + TS_1S + "80" + "6400 38ff 2c01" + "03 01 f100"), DATA_UUID)
    out = rows(decoder.feed(bytes.fromhex("02" + TS_1S + "01" + "e803 0000 0000"), DATA_UUID))
    check(out, [[1.0, G, 0, 0, 101.0, -202.0, 303.0]])


def test_polar_gyro_gap_gives_nan_gyro_not_invented_values():
    decoder = verity_decoder()
    dt_ns = 1e9 / 104
    t0 = 1_000_000_000

    def stamp(ns):
        return round(ns).to_bytes(8, "little").hex()

    # gyro sample at t0, then the next gyro sample 10 intervals later (frames lost)
    decoder.feed(bytes.fromhex("05" + stamp(t0) + "80" + "0100 0000 0000"), DATA_UUID)
    decoder.feed(bytes.fromhex("05" + stamp(t0 + 10 * dt_ns) + "80" + "0b00 0000 0000"), DATA_UUID)
    out = rows(
        decoder.feed(
            bytes.fromhex("02" + stamp(t0 + 5 * dt_ns) + "01" + "e803 0000 0000"), DATA_UUID
        )
    )
    assert out.shape == (1, 7) and np.isnan(out[0, 4:]).all() and out[0, 1] == pytest.approx(G)


def test_polar_rejects_truncated_and_unsupported_frames():
    decoder = verity_decoder()
    with pytest.raises(DecodeError):
        decoder.feed(bytes.fromhex("02" + TS_1S), DATA_UUID)  # no frame type
    with pytest.raises(DecodeError):
        decoder.feed(bytes.fromhex("02" + TS_1S + "01" + "e803 00"), DATA_UUID)  # partial
    with pytest.raises(DecodeError):
        decoder.feed(bytes.fromhex("05" + TS_1S + "00" + "0000 0000 0000"), DATA_UUID)  # raw gyro
    with pytest.raises(DecodeError):
        decoder.feed(bytes.fromhex("05" + TS_1S + "80" + "6400 38ff 2c01 04 05 f1"), DATA_UUID)
    # another measurement (PPG = 1) on the same characteristic is ignored
    assert decoder.feed(bytes.fromhex("01" + TS_1S + "00" + "000000"), DATA_UUID) == []


def test_polar_float_gyro_frame_and_non_finite_values():
    # GYRO compressed type 1 (0x81): float32 reference (1.0, -2.0, 0.5) = 0000803f 000000c0
    # 0000003f, no delta blocks -> one sample
    decoder = verity_decoder()
    decoder.feed(bytes.fromhex("05" + TS_1S + "81" + "0000803f 000000c0 0000003f"), DATA_UUID)
    out = rows(decoder.feed(bytes.fromhex("02" + TS_1S + "01" + "0000 0000 e803"), DATA_UUID))
    check(out, [[1.0, 0, 0, G, 1.0, -2.0, 0.5]])
    with pytest.raises(DecodeError, match="non-finite"):  # a NaN (0x7FC00000) reference
        decoder.feed(bytes.fromhex("05" + TS_1S + "81" + "0000c07f 000000c0 0000003f"), DATA_UUID)


# --- Nordic Thingy:52 ---------------------------------------------------------------------
# <9h: acc 1024 -> 1 g (0004), -512 -> -0.5 g (00fe), 256 -> 0.25 g (0001);
# gyro 32 -> 1 deg/s (2000), -3200 = 0xF380 -> -100 deg/s (80f3), 1 -> 1/32 deg/s (0100);
# compass 0, 0, 0
THINGY = bytes.fromhex("0004 00fe 0001 2000 80f3 0100 0000 0000 0000")


def test_thingy52_raw_notification():
    out = rows(PROFILES["thingy52"].new_decoder(50.0).feed(THINGY))
    check(out, [[math.nan, G, -0.5 * G, 0.25 * G, 1.0, -100.0, 0.03125]])


def test_thingy52_wrong_length_is_a_decode_error():
    with pytest.raises(DecodeError, match="18"):
        PROFILES["thingy52"].new_decoder(50.0).feed(THINGY[:-1])


# --- Movesense ----------------------------------------------------------------------------
# IMU6 body: u32 ms 1000 = e8030000; acc (0, 0, 9.75), (1.5, -2.0, 9.75); gyro (10, 0, -0.5),
# (0.25, 0, 0) as float32 LE: 0.0 = 00000000, 9.75 = 0x411C0000 -> 00001c41,
# 1.5 = 0x3FC00000 -> 0000c03f, -2.0 = 0xC0000000 -> 000000c0, 10.0 = 0x41200000 -> 00002041,
# -0.5 = 0xBF000000 -> 000000bf, 0.25 = 0x3E800000 -> 0000803e
MS_BODY = bytes.fromhex(
    "e8030000"
    + "00000000 00000000 00001c41"
    + "0000c03f 000000c0 00001c41"
    + "00002041 00000000 000000bf"
    + "0000803e 00000000 00000000"
)
MS_ROWS = [
    [1.0, 0.0, 0.0, 9.75, 10.0, 0.0, -0.5],
    [1.0 + 1 / 104, 1.5, -2.0, 9.75, 0.25, 0.0, 0.0],
]


def movesense_decoder():
    return PROFILES["movesense"].new_decoder(104.0)


def test_movesense_imu6_in_one_notification():
    out = movesense_decoder().feed(bytes.fromhex("0263") + MS_BODY, MOVESENSE_DATA)
    check(rows(out), MS_ROWS)


def test_movesense_data_part_2_is_reassembled():
    decoder = movesense_decoder()
    assert decoder.feed(bytes.fromhex("0263") + MS_BODY[:20], MOVESENSE_DATA) == []
    out = decoder.feed(bytes.fromhex("0363") + MS_BODY[20:], MOVESENSE_DATA)
    check(rows(out), MS_ROWS)


def test_movesense_timestamp_unwraps_across_u32_rollover():
    decoder = movesense_decoder()
    late = bytes.fromhex("0263ffffffff") + MS_BODY[4:]
    early = bytes.fromhex("026310000000") + MS_BODY[4:]
    t_late = rows(decoder.feed(late, MOVESENSE_DATA))[0, 0]
    t_early = rows(decoder.feed(early, MOVESENSE_DATA))[0, 0]
    assert t_late == pytest.approx(4294967.295)
    assert t_early - t_late == pytest.approx(0.017)


def test_movesense_errors_and_results():
    decoder = movesense_decoder()
    with pytest.raises(DecodeError, match="507"):
        decoder.feed(bytes.fromhex("016301fb"), MOVESENSE_DATA)  # big-endian 0x01FB
    assert decoder.feed(b"\x01\x48Hello", MOVESENSE_DATA) == []
    with pytest.raises(DecodeError, match="without its first part"):
        decoder.feed(bytes.fromhex("0363") + MS_BODY[20:], MOVESENSE_DATA)
    assert decoder.feed(bytes.fromhex("0207") + MS_BODY, MOVESENSE_DATA) == []  # other ref
    with pytest.raises(DecodeError, match="non-finite"):  # NaN = 0x7FC00000 as acc x
        decoder.feed(
            bytes.fromhex("0263") + MS_BODY[:4] + bytes.fromhex("0000c07f") + MS_BODY[8:],
            MOVESENSE_DATA,
        )


# --- OpenIMU ------------------------------------------------------------------------------
# version 01 | count 01 | sequence 5 = 0500 | device time 1_000_000 us = 0x000F4240 ->
# 40420f00 | ranges acc code 2 (8 g) | gyro code 3 (1000 deg/s) << 4 = 32 | flags 00 |
# rate 104.0 Hz = 1040 dHz = 0x0410 -> 1004 | acc 4096 x 8/32768 g = 1 g (0010), -4096
# (00f0), 0 | gyro 16384 x 1000/32768 = 500 deg/s (0040), -16384 (00c0), 0
OPENIMU_SEQ5 = bytes.fromhex("01 01 0500 40420f00 32 00 1004" + "0010 00f0 0000 0040 00c0 0000")
# same sample, sequence 8 (2 samples lost after sequence 5 of count 1), time 1_028_846 us
OPENIMU_SEQ8 = bytes.fromhex("01 01 0800 eeb20f00 32 00 1004" + "0010 00f0 0000 0040 00c0 0000")


def test_openimu_packets_and_lost_samples():
    decoder = PROFILES["openimu"].new_decoder(104.0)
    first = decoder.feed(OPENIMU_SEQ5)
    check(rows(first), [[1.0, G, -G, 0, 500.0, -500.0, 0]])
    assert (first[0].sequence, first[0].lost_before) == (5, 0)
    second = decoder.feed(OPENIMU_SEQ8)
    assert (second[0].sequence, second[0].lost_before) == (8, 2)
    assert rows(second)[0, 0] == pytest.approx(1.028846)


def test_openimu_malformed_packet_is_a_decode_error():
    with pytest.raises(DecodeError, match="OpenIMU"):
        PROFILES["openimu"].new_decoder(104.0).feed(OPENIMU_SEQ5[:-2])


# --- contract shared by every profile ------------------------------------------------------
@pytest.mark.parametrize("name", sorted(PROFILES))
def test_every_decoder_yields_canonical_frames(name):
    """Contract shared by all profiles: shape, dtype, NaN time iff no device clock."""
    profile = PROFILES[name]
    example = {
        "witmotion": [WIT],
        "polar-h10": [bytes.fromhex("02" + TS_1S + "01" + "e803 0000 18fc")],
        "polar-verity": [
            bytes.fromhex("05" + TS_1S + "80" + "6400 38ff 2c01"),
            bytes.fromhex("02" + TS_1S + "01" + "e803 0000 18fc"),
        ],
        "thingy52": [THINGY],
        "movesense": [bytes.fromhex("0263") + MS_BODY],
        "openimu": [OPENIMU_SEQ5],
    }[name]
    decoder = profile.new_decoder(profile.default_rate_hz)
    data_uuid = profile.notify_uuids[-1]
    frames = [f for data in example for f in decoder.feed(data, data_uuid)]
    samples = np.concatenate([f.samples for f in frames])
    assert samples.dtype == np.float64 and samples.shape[1] == 7 and len(samples) >= 1
    assert np.isfinite(samples[:, 0]).all() == profile.device_clock
    assert np.isnan(samples[:, 0]).all() == (not profile.device_clock)
    assert np.isfinite(samples[:, 1:4]).all()
    assert np.isfinite(samples[:, 4:7]).all() == profile.has_gyro
