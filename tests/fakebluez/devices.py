"""Fake peripherals of the supported profiles: GATT layout plus a packet encoder.

Encoders are the test-side inverse of the decoders in ``imu/ble/profiles``, written
from the packet layouts in /work/shared/notes/ble-protocols.md (vendor sources named
there), so a stream encoded here and decoded by the profile must give the samples back
within the format's quantisation.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

import numpy as np

from .service import CharSpec, DeviceSpec

STANDARD_GRAVITY = 9.80665

# --- WitMotion BWT901BLE / WT901BLECL: 20-byte "55 61" packets, no clock ---------------
WIT_SERVICE = "0000ffe5-0000-1000-8000-00805f9a34fb"
WIT_NOTIFY = "0000ffe4-0000-1000-8000-00805f9a34fb"
WIT_WRITE = "0000ffe9-0000-1000-8000-00805f9a34fb"
WIT_ACC_LSB_PER_G = 32768 / 16
WIT_GYR_LSB_PER_DEG_S = 32768 / 2000


def witmotion_spec(address: str, name: str = "WT901BLE67", rssi: int = -55) -> DeviceSpec:
    return DeviceSpec(
        address=address,
        local_name=name,
        services={
            WIT_SERVICE: [
                CharSpec(WIT_NOTIFY, ("notify",)),
                CharSpec(WIT_WRITE, ("write-without-response", "write")),
            ]
        },
        advertised_uuids=[WIT_SERVICE],
        rssi=rssi,
    )


def _int16(values: np.ndarray) -> np.ndarray:
    return np.clip(np.round(values), -32768, 32767).astype("<i2")


def witmotion_quantise(samples: np.ndarray) -> np.ndarray:
    """What a WitMotion decoder must return for ``samples`` (time column NaN)."""
    out = np.full_like(samples, np.nan)
    g = _int16(samples[:, 1:4] / STANDARD_GRAVITY * WIT_ACC_LSB_PER_G)
    w = _int16(samples[:, 4:7] * WIT_GYR_LSB_PER_DEG_S)
    out[:, 1:4] = g / WIT_ACC_LSB_PER_G * STANDARD_GRAVITY
    out[:, 4:7] = w / WIT_GYR_LSB_PER_DEG_S
    return out


def witmotion_stream(samples: np.ndarray) -> bytes:
    """The byte stream a WitMotion sends for ``(n, 7)`` canonical samples (time ignored)."""
    acc = _int16(samples[:, 1:4] / STANDARD_GRAVITY * WIT_ACC_LSB_PER_G)
    gyr = _int16(samples[:, 4:7] * WIT_GYR_LSB_PER_DEG_S)
    angles = np.zeros((len(samples), 3), dtype="<i2")
    body = np.hstack([acc, gyr, angles]).astype("<i2")
    header = np.frombuffer(b"\x55\x61", dtype=np.uint8)
    rows = [header.tobytes() + row.tobytes() for row in body]
    return b"".join(rows)


def chop(stream: bytes, sizes: Iterator[int]) -> list[bytes]:
    """Cut a byte stream into notifications of the given sizes (split/merged packets)."""
    out = []
    i = 0
    while i < len(stream):
        n = next(sizes)
        out.append(stream[i : i + n])
        i += n
    return out


def packets_of(stream: bytes, size: int) -> list[bytes]:
    """Cut a byte stream into equal notifications of ``size`` bytes (last may be short)."""
    return [stream[i : i + size] for i in range(0, len(stream), size)]


# --- Movesense (gatt_sensordata_app): IMU6 float32 packets, ms device clock ------------
MOVESENSE_SERVICE = "34802252-7185-4d5d-b431-630e7050e8f0"
MOVESENSE_COMMAND = "34800001-7185-4d5d-b431-630e7050e8f0"
MOVESENSE_DATA = "34800002-7185-4d5d-b431-630e7050e8f0"
MOVESENSE_IMU_REF = 0x63


def _movesense_command(device, char_uuid: str, data: bytes) -> None:
    """HELLO (0) answers ``[1][ref]Hello``; SUBSCRIBE (1) starts the stream."""
    if char_uuid != MOVESENSE_COMMAND or len(data) < 2:
        return
    if data[0] == 0:
        device.notify(MOVESENSE_DATA, bytes((1, data[1])) + b"Hello")
    elif data[0] == 1:
        device.started = True
        device.notify(MOVESENSE_DATA, bytes((1, data[1])) + (200).to_bytes(2, "big"))


def movesense_spec(address: str, name: str = "Movesense 223430000123") -> DeviceSpec:
    return DeviceSpec(
        address=address,
        local_name=name,
        services={
            MOVESENSE_SERVICE: [
                CharSpec(MOVESENSE_COMMAND, ("write",)),
                CharSpec(MOVESENSE_DATA, ("notify",)),
            ]
        },
        advertised_uuids=[MOVESENSE_SERVICE],
        on_write=_movesense_command,
        needs_start=True,
    )


def movesense_packets(samples: np.ndarray, per_packet: int = 8) -> list[bytes]:
    """IMU6 data notifications ``[2][ref] u32 ms`` + acc then gyro float32 vectors.

    The time column gives the device clock (s); each packet is stamped with its first
    sample's time in whole milliseconds, as the firmware does.
    """
    packets = []
    for i in range(0, len(samples), per_packet):
        block = samples[i : i + per_packet]
        stamp = round(float(block[0, 0]) * 1000) & 0xFFFFFFFF
        body = stamp.to_bytes(4, "little")
        body += block[:, 1:4].astype("<f4").tobytes() + block[:, 4:7].astype("<f4").tobytes()
        packets.append(bytes((2, MOVESENSE_IMU_REF)) + body)
    return packets


# --- Nordic Thingy:52: one 18-byte "<9h" raw-motion sample per notification -----------
THINGY_SERVICE = "ef680400-9b35-4933-9b10-52ffa9740042"
THINGY_CONFIG = "ef680401-9b35-4933-9b10-52ffa9740042"
THINGY_RAW = "ef680406-9b35-4933-9b10-52ffa9740042"


def thingy_spec(address: str, name: str = "Thingy") -> DeviceSpec:
    return DeviceSpec(
        address=address,
        local_name=name,
        services={
            THINGY_SERVICE: [
                CharSpec(THINGY_CONFIG, ("read", "write")),
                CharSpec(THINGY_RAW, ("notify",)),
            ]
        },
        advertised_uuids=[THINGY_SERVICE],
    )


def thingy_counts(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """acc in Q10 g, gyro in Q5 deg/s (the firmware's fixed point)."""
    return (
        _int16(samples[:, 1:4] / STANDARD_GRAVITY * 1024),
        _int16(samples[:, 4:7] * 32),
    )


def thingy_packets(samples: np.ndarray) -> list[bytes]:
    acc, gyr = thingy_counts(samples)
    compass = np.zeros((len(samples), 3), dtype="<i2")
    return [row.tobytes() for row in np.hstack([acc, gyr, compass]).astype("<i2")]


def thingy_quantise(samples: np.ndarray) -> np.ndarray:
    acc, gyr = thingy_counts(samples)
    out = np.full_like(samples, np.nan)
    out[:, 1:4] = acc / 1024 * STANDARD_GRAVITY
    out[:, 4:7] = gyr / 32
    return out


# --- Polar PMD (Verity Sense: acc + gyro; H10: acc) ------------------------------------
POLAR_SERVICE = "fb005c80-02e7-f387-1cad-8acd2d8df0c8"
POLAR_CONTROL = "fb005c81-02e7-f387-1cad-8acd2d8df0c8"
POLAR_DATA = "fb005c82-02e7-f387-1cad-8acd2d8df0c8"
POLAR_ACC, POLAR_GYRO = 2, 5
POLAR_GYRO_FACTOR = 2000 / 32768  # deg/s per count, sent in the gyro start reply


def _polar_command(device, char_uuid: str, data: bytes) -> None:
    """Answer ``F0 <op> <type> 00 00`` (+ factor for gyro); the last start starts streaming."""
    if char_uuid != POLAR_CONTROL or len(data) < 2:
        return
    op, measurement = data[0], data[1]
    reply = bytes((0xF0, op, measurement, 0, 0))
    if op == 2 and measurement == POLAR_GYRO:
        reply += bytes((5, 1)) + struct.pack("<f", POLAR_GYRO_FACTOR)
    device.notify(POLAR_CONTROL, reply)
    with_gyro = "Sense" in device.spec.local_name
    if op == 2 and measurement == (POLAR_GYRO if with_gyro else POLAR_ACC):
        device.started = True


def polar_spec(address: str, name: str) -> DeviceSpec:
    """``name`` 'Polar Sense ...' (Verity Sense, acc + gyro) or 'Polar H10 ...' (acc)."""
    return DeviceSpec(
        address=address,
        local_name=name,
        services={
            POLAR_SERVICE: [
                CharSpec(POLAR_CONTROL, ("read", "write", "indicate")),
                CharSpec(POLAR_DATA, ("notify",)),
            ]
        },
        advertised_uuids=[POLAR_SERVICE],
        on_write=_polar_command,
        needs_start=True,
    )


def delta_payload(values: np.ndarray) -> bytes:
    """PMD delta compression of ``(n, 3)`` int values with 16-bit reference, one block.

    Reference sample (3 x int16 LE), then ``[bit width][count]`` and ``count x 3``
    signed deltas of that width, packed least-significant bit first.
    """
    values = np.asarray(values, dtype=np.int64)
    deltas = np.diff(values, axis=0).ravel()
    payload = values[0].astype("<i2").tobytes()
    if len(deltas):
        width = 1 + max(int(deltas.max()).bit_length(), int(-deltas.min() - 1).bit_length())
        bits = ((deltas[:, None] >> np.arange(width)) & 1).astype(np.uint8).ravel()
        payload += bytes((width, len(values) - 1))
        payload += np.packbits(bits, bitorder="little").tobytes()
    return payload


def polar_counts(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """acc in mG (int16), gyro in counts of POLAR_GYRO_FACTOR deg/s."""
    return (
        _int16(samples[:, 1:4] / STANDARD_GRAVITY * 1000),
        _int16(samples[:, 4:7] / POLAR_GYRO_FACTOR),
    )


def polar_packets(samples: np.ndarray, with_gyro: bool, per_frame: int = 12) -> list[bytes]:
    """ACC frames (raw int16 mG, type 1) and, with gyro, compressed GYRO frames (0x80).

    Each frame is stamped with its LAST sample's device time in ns since 2000-01-01.
    """
    acc, gyr = polar_counts(samples)
    packets = []
    for i in range(0, len(samples), per_frame):
        stamp = round(float(samples[min(i + per_frame, len(samples)) - 1, 0]) * 1e9)
        header = stamp.to_bytes(8, "little")
        packets.append(bytes([POLAR_ACC]) + header + b"\x01" + acc[i : i + per_frame].tobytes())
        if with_gyro:
            body = delta_payload(gyr[i : i + per_frame])
            packets.append(bytes([POLAR_GYRO]) + header + b"\x80" + body)
    return packets


def polar_quantise(samples: np.ndarray, with_gyro: bool) -> np.ndarray:
    acc, gyr = polar_counts(samples)
    out = np.full_like(samples, np.nan)
    out[:, 1:4] = acc / 1000 * STANDARD_GRAVITY
    if with_gyro:
        out[:, 4:7] = gyr * np.float64(np.float32(POLAR_GYRO_FACTOR))
    return out


# --- OpenIMU (this project's open profile): packets from the project's codec ----------
def openimu_spec(address: str, name: str = "OpenIMU-7F21") -> DeviceSpec:
    from imu.ble import openimu_codec as codec

    def on_write(device, char_uuid: str, data: bytes) -> None:
        if char_uuid == codec.CONFIG_UUID:
            device.started = codec.decode_config(data).start

    return DeviceSpec(
        address=address,
        local_name=name,
        services={
            codec.SERVICE_UUID: [
                CharSpec(codec.DATA_UUID, ("notify",)),
                CharSpec(codec.CONFIG_UUID, ("read", "write")),
                CharSpec(codec.INFO_UUID, ("read",)),
            ]
        },
        advertised_uuids=[codec.SERVICE_UUID],
        on_write=on_write,
        needs_start=True,
    )
