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
