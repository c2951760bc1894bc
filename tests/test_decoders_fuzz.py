"""Property tests of the device decoders.

- Arbitrary bytes on any subscribed characteristic never raise anything but DecodeError,
  and whatever is decoded is a well-formed (n, 7) float64 frame.
- Valid streams cut into arbitrary notifications (WitMotion byte stream, Movesense data
  part 2) decode to the same samples as the whole notifications.
- Polar delta frames built by an encoder written here from the SDK's layout description
  decode back to the samples they were built from.
- OpenIMU sequence numbers count exactly the samples of dropped packets.
"""

from __future__ import annotations

import itertools
import struct

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from imu.ble import openimu_codec
from imu.ble.profiles import PROFILES, DecodeError
from imu.ble.profiles.base import STANDARD_GRAVITY as G
from imu.ble.profiles.movesense import DATA_UUID as MOVESENSE_DATA
from imu.ble.profiles.movesense import IMU_REF
from imu.ble.profiles.polar import DATA_UUID as PMD_DATA

FUZZ = settings(max_examples=100, deadline=None)
int16 = st.integers(-32768, 32767)


def decoded(decoder, chunks, uuid=""):
    """Feed ``chunks`` in order; (n, 7) of everything decoded."""
    frames = [f for chunk in chunks for f in decoder.feed(chunk, uuid)]
    return np.concatenate([f.samples for f in frames]) if frames else np.empty((0, 7))


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in itertools.pairwise(points)]


@FUZZ
@given(
    name=st.sampled_from(sorted(PROFILES)),
    notifications=st.lists(st.binary(max_size=64), max_size=12),
    which=st.lists(st.integers(0, 1), min_size=12, max_size=12),
)
def test_arbitrary_bytes_raise_only_decode_error(name, notifications, which):
    profile = PROFILES[name]
    decoder = profile.new_decoder(profile.default_rate_hz)
    for data, pick in zip(notifications, which):
        uuid = profile.notify_uuids[pick % len(profile.notify_uuids)]
        try:
            frames = decoder.feed(data, uuid)
        except DecodeError:
            continue
        for frame in frames:
            assert frame.samples.dtype == np.float64 and frame.samples.shape[1] == 7
            assert frame.lost_before >= 0
            assert np.isfinite(frame.samples[:, 1:4]).all()


@FUZZ
@given(
    name=st.sampled_from(["polar-verity", "polar-h10"]),
    header=st.sampled_from([b"\x02", b"\x05"]),
    stamp=st.integers(0, 2**64 - 1),
    frame_type=st.sampled_from([0x00, 0x01, 0x02, 0x80, 0x81]),
    payload=st.binary(max_size=60),
)
def test_pmd_frames_with_valid_headers_and_random_payloads(
    name, header, stamp, frame_type, payload
):
    decoder = PROFILES[name].new_decoder(PROFILES[name].default_rate_hz)
    data = header + stamp.to_bytes(8, "little") + bytes([frame_type]) + payload
    try:
        decoder.feed(data, PMD_DATA)
    except DecodeError:
        pass


# --- WitMotion: arbitrary cuts of a valid stream ------------------------------------------
def wit_packet(values: tuple[int, ...]) -> bytes:
    return b"\x55\x61" + struct.pack("<9h", *values)


@FUZZ
@given(
    packets=st.lists(st.tuples(*[int16] * 9), min_size=1, max_size=8),
    garbage=st.binary(max_size=8).map(lambda b: b.replace(b"\x55", b"")),
    cuts=st.lists(st.integers(0, 200), max_size=10),
)
def test_witmotion_any_split_decodes_like_the_whole_stream(packets, garbage, cuts):
    stream = garbage + b"".join(wit_packet(p) for p in packets)
    whole = decoded(PROFILES["witmotion"].new_decoder(100.0), [stream])
    pieces = decoded(PROFILES["witmotion"].new_decoder(100.0), split(stream, cuts))
    raw = np.array(packets, dtype=float)
    np.testing.assert_array_equal(whole[:, 1:4], raw[:, 0:3] * 16 / 32768 * G)
    np.testing.assert_array_equal(whole[:, 4:7], raw[:, 3:6] * 2000 / 32768)
    np.testing.assert_array_equal(pieces, whole)


# --- Movesense: any cut into data + data part 2 -----------------------------------------
@FUZZ
@given(
    n=st.integers(1, 8),
    values=st.lists(st.floats(-1e4, 1e4, width=32), min_size=48, max_size=48),
    stamp=st.integers(0, 2**32 - 1),
    cut=st.integers(1, 300),
)
def test_movesense_part2_reassembly_matches_whole(n, values, stamp, cut):
    body = struct.pack("<I", stamp) + struct.pack(f"<{6 * n}f", *values[: 6 * n])
    cut = cut % (len(body) - 1) + 1
    if (cut - 4) % 24 == 0 and cut > 4:
        cut += 1  # a first part that is itself whole would not wait for part 2
    head = bytes([2, IMU_REF])
    whole = decoded(PROFILES["movesense"].new_decoder(104.0), [head + body], MOVESENSE_DATA)
    parts = decoded(
        PROFILES["movesense"].new_decoder(104.0),
        [head + body[:cut], bytes([3, IMU_REF]) + body[cut:]],
        MOVESENSE_DATA,
    )
    np.testing.assert_array_equal(parts, whole)
    expected = np.array(values[: 6 * n], dtype=np.float32).astype(float)
    np.testing.assert_array_equal(whole[:, 1:4].ravel(), expected[: 3 * n])
    np.testing.assert_array_equal(whole[:, 4:7].ravel(), expected[3 * n :])


# --- Polar delta frames ---------------------------------------------------------------------
def pmd_delta_payload(samples: np.ndarray, width: int) -> bytes:
    """Encode (n, 3) int samples: 16-bit reference, then blocks of <= 255 deltas."""
    out = bytearray(struct.pack("<3h", *samples[0]))
    deltas = np.diff(samples, axis=0)
    for start in range(0, len(deltas), 255):
        block = deltas[start : start + 255]
        bits = [(int(v) >> k) & 1 for v in block.ravel() for k in range(width)]
        out += (
            bytes([width, len(block)])
            + np.packbits(np.array(bits, dtype=np.uint8), bitorder="little").tobytes()
        )
    return bytes(out)


@FUZZ
@given(
    samples=st.lists(st.tuples(*[st.integers(-2000, 2000)] * 3), min_size=1, max_size=40),
    extra_width=st.integers(0, 4),
)
def test_polar_delta_frames_round_trip(samples, extra_width):
    raw = np.array(samples, dtype=np.int64)
    deltas = np.diff(raw, axis=0)
    span = int(np.abs(deltas).max()) if deltas.size else 0
    width = max(1, span.bit_length() + 1) + extra_width
    stamp = (10**9).to_bytes(8, "little")
    decoder = PROFILES["polar-h10"].new_decoder(100.0)
    frame = b"\x02" + stamp + b"\x81" + pmd_delta_payload(raw, width)
    out = decoded(decoder, [frame], PMD_DATA)
    np.testing.assert_allclose(out[:, 1:4], raw / 1000 * G, rtol=0, atol=1e-9)
    np.testing.assert_allclose(out[-1, 0], 1.0)
    np.testing.assert_allclose(np.diff(out[:, 0]), 0.01)


# --- OpenIMU: lost samples from sequence numbers ------------------------------------------
@FUZZ
@given(
    counts=st.lists(st.integers(1, 10), min_size=2, max_size=30),
    keep=st.lists(st.booleans(), min_size=30, max_size=30),
    first_sequence=st.integers(0, 65535),
)
def test_openimu_lost_before_counts_dropped_samples(counts, keep, first_sequence):
    keep = [True, *keep[1 : len(counts)]]
    decoder = PROFILES["openimu"].new_decoder(104.0)
    sequence, lost_expected, lost_reported = first_sequence, 0, 0
    for count, kept in zip(counts, keep):
        packet = openimu_codec.encode_packet(
            np.zeros((count, 6), dtype=np.int16),
            sequence=sequence % 65536,
            device_time_us=(sequence * 9615) % 2**32,
            acc_range_code=2,
            gyr_range_code=3,
            sampling_rate_hz=104.0,
        )
        sequence += count
        if kept:
            (frame,) = decoder.feed(packet)
            lost_reported += frame.lost_before
        else:
            lost_expected += count
    trailing = 0  # dropped after the last kept packet: nothing can report them yet
    for count, kept in reversed(list(zip(counts, keep))):
        if kept:
            break
        trailing += count
    assert lost_reported == lost_expected - trailing


# --- Polar Verity: acc and gyro frames in any arrival order --------------------------------
@settings(max_examples=60, deadline=None)
@given(
    frames=st.integers(1, 5),
    per_frame=st.integers(1, 8),
    phase=st.floats(0.0, 0.99),
    order=st.lists(st.booleans(), min_size=10, max_size=10),
    slope=st.integers(-50, 50),
)
def test_verity_merge_in_any_arrival_order(frames, per_frame, phase, order, slope):
    """Every accelerometer sample covered by gyro samples comes out once, in order, with
    the gyro (a linear ramp in time here) interpolated exactly; nothing else comes out."""
    rate = 52.0
    dt_ns = 1e9 / rate
    t0_ns = 5 * 10**9
    n = frames * per_frame
    acc_t = t0_ns + np.arange(n) * dt_ns
    gyr_t = acc_t + phase * dt_ns
    gyr_value = 100 + slope * np.arange(n)  # deg/s, linear in sample index

    def stamp(ns):
        return int(np.rint(ns)).to_bytes(8, "little")

    acc_frames, gyr_frames = [], []
    for f in range(frames):
        rows = slice(f * per_frame, (f + 1) * per_frame)
        idx = np.arange(n)[rows]
        acc_raw = np.column_stack([idx, np.zeros_like(idx), np.full_like(idx, 1000)])
        acc_frames.append(
            b"\x02" + stamp(acc_t[rows][-1]) + b"\x01" + acc_raw.astype("<i2").tobytes()
        )
        gyr_raw = np.column_stack([gyr_value[rows], np.zeros_like(idx), np.zeros_like(idx)])
        gyr_frames.append(
            b"\x05" + stamp(gyr_t[rows][-1]) + b"\x80" + pmd_delta_payload(gyr_raw, 8)
        )
    arrivals, a, g = [], 0, 0
    for pick_gyro in [*order, *[True] * (2 * frames)]:
        if pick_gyro and g < frames:
            arrivals.append(gyr_frames[g])
            g += 1
        elif a < frames:
            arrivals.append(acc_frames[a])
            a += 1
    arrivals += acc_frames[a:]
    out = decoded(PROFILES["polar-verity"].new_decoder(rate), arrivals, PMD_DATA)
    covered = (acc_t >= gyr_t[0] - 1) & (acc_t <= gyr_t[-1] + 1)
    expected_index = np.flatnonzero(covered)
    np.testing.assert_array_equal(np.round(out[:, 1] / G * 1000), expected_index)
    np.testing.assert_allclose(out[:, 0], acc_t[expected_index] / 1e9, atol=1e-8)
    ramp = 100 + slope * (expected_index - phase)  # gyro value interpolated at acc times
    np.testing.assert_allclose(out[:, 4], ramp, atol=1e-6 * max(1, abs(slope)))
