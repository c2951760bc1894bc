"""Fake peripherals of the supported profiles: GATT layout plus a packet encoder.

Encoders are the test-side inverse of the decoders in ``imu/ble/profiles``, written
from the packet layouts in /work/shared/notes/ble-protocols.md (vendor sources named
there), so a stream encoded here and decoded by the profile must give the samples back
within the format's quantisation.
"""

from __future__ import annotations

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
