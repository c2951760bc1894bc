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
POLAR_ACC, POLAR_GYRO, POLAR_SDK = 2, 5, 9
POLAR_GYRO_FACTOR = 2000 / 32768  # deg/s per count, sent in the gyro start reply

# Settings replies ("get settings", op 01), the bytes after ``F0 01 <type> 00 00``:
# ``<id> <count> <values>``, ids 0 rate u16, 1 resolution u16, 2 range u16, 4 channels u8.
H10_ACC_SETTINGS = bytes.fromhex("00 04 1900 3200 6400 c800  01 01 1000  02 03 0200 0400 0800")
"""H10 ACC: 25/50/100/200 Hz, 16 bit, 2/4/8 g, no CHANNELS (PMD specification)."""
VERITY_SDK_ACC_SETTINGS = bytes.fromhex(
    "00 05 1a00 3400 6800 d000 a001  01 01 1000  02 04 0200 0400 0800 1000  04 01 03"
)
"""Verity Sense ACC in SDK mode: 26-416 Hz, 16 bit, 2/4/8/16 g, 3 channels
(polar-ble-sdk SdkModeExplained.md; the same values read from a device in
fsmeraldi/bleakheart pull request 11)."""
VERITY_SDK_GYRO_SETTINGS = bytes.fromhex(
    "00 05 1a00 3400 6800 d000 a001  01 01 1000  02 04 fa00 f401 e803 d007  04 01 03"
)
"""Verity Sense GYRO in SDK mode: 26-416 Hz, 16 bit, 250-2000 deg/s, 3 channels (same sources)."""
VERITY_ACC_SETTINGS = bytes.fromhex("00 01 3400  01 01 1000  02 01 0800  04 01 03")
"""Verity Sense ACC outside SDK mode: 52 Hz only (SdkModeExplained.md); 16 bit, 8 g and 3
channels as in the online-measurement document's start example
``02 02 00 01 34 00 01 01 10 00 02 01 08 00 04 01 03``."""
VERITY_GYRO_SETTINGS = bytes.fromhex("00 01 3400  01 01 1000  02 04 fa00 f401 e803 d007  04 01 03")
"""Verity Sense GYRO outside SDK mode: 52 Hz (assumed from the ACC; not documented)."""
H10_START_RESERVED = b"\x01"
"""The H10 ends its "start ACC" reply with a reserved byte: ``F0 02 02 00 00 01`` (PMD
specification, real captures)."""
POLAR_INVALID_PARAMETER = 5


def _polar_settings(data: bytes) -> dict[int, list[int]]:
    """``<id> <count> <values>`` -> {id: values} (the fake's own reading, u8 channels)."""
    sizes = {0: 2, 1: 2, 2: 2, 4: 1}
    out, i = {}, 0
    while i + 2 <= len(data):
        setting, count = data[i], data[i + 1]
        size = sizes.get(setting)
        if size is None or i + 2 + count * size > len(data):
            return {-1: []}  # unreadable: refused below
        values = [
            int.from_bytes(data[i + 2 + k * size : i + 2 + (k + 1) * size], "little")
            for k in range(count)
        ]
        out[setting], i = values, i + 2 + count * size
    return out if i == len(data) else {-1: []}


def _polar_offers(name: str, sdk_mode: bool, measurement: int) -> bytes | None:
    """The settings a device called ``name`` lists for ``measurement`` (None: none)."""
    if "H10" in name:
        return H10_ACC_SETTINGS if measurement == POLAR_ACC else None
    if measurement == POLAR_ACC:
        return VERITY_SDK_ACC_SETTINGS if sdk_mode else VERITY_ACC_SETTINGS
    if measurement == POLAR_GYRO:
        return VERITY_SDK_GYRO_SETTINGS if sdk_mode else VERITY_GYRO_SETTINGS
    return None


def polar_reply(name: str, command: bytes, sdk_mode: bool = True) -> bytes:
    """A Polar device's control-point reply to ``command``, byte for byte as the PMD
    documents describe (``name`` 'Polar H10 ...' or 'Polar Sense ...'; ``sdk_mode``:
    whether the Verity Sense is in SDK mode).

    ``01 <type>`` -> ``F0 01 <type> 00 00`` + the settings offered; ``02 09`` (Verity) ->
    ``F0 02 09 00 00``; ``02 <type> <settings>`` -> success only when the settings name
    exactly the setting types offered, each with an offered value (the SDK writes every
    offered type; the H10 is reported to answer error 5, invalid parameter, to a CHANNELS
    setting it does not list), the H10's reply carrying its reserved byte and the
    Verity's gyro reply the factor (setting 5); ``03 <type>`` -> ``F0 03 <type> 00 00``.
    """
    op, measurement = command[0], command[1]
    h10 = "H10" in name
    status, params = 0, b""
    if op == 1:
        offers = _polar_offers(name, sdk_mode, measurement)
        status, params = (3, b"") if offers is None else (0, offers)
    elif op == 2 and measurement == POLAR_SDK:
        status = 3 if h10 else 0
    elif op == 2:
        offers = _polar_offers(name, sdk_mode, measurement)
        if offers is None:
            status = 3
        else:
            offered, asked = _polar_settings(offers), _polar_settings(command[2:])
            valid = set(asked) == set(offered) and all(
                len(v) == 1 and v[0] in offered[k] for k, v in asked.items()
            )
            status = 0 if valid else POLAR_INVALID_PARAMETER
        if status == 0 and h10:
            params = H10_START_RESERVED
        elif status == 0 and measurement == POLAR_GYRO:
            params = bytes((5, 1)) + struct.pack("<f", POLAR_GYRO_FACTOR)
    return bytes((0xF0, op, measurement, status, 0)) + params


def _polar_command(device, char_uuid: str, data: bytes) -> None:
    """Answer control-point writes (:func:`polar_reply`); the last start starts streaming."""
    if char_uuid != POLAR_CONTROL or len(data) < 2:
        return
    name = device.spec.local_name
    sdk_mode = getattr(device, "sdk_mode", False)
    reply = polar_reply(name, data, sdk_mode)
    device.notify(POLAR_CONTROL, reply)
    op, measurement, ok = data[0], data[1], reply[3] == 0
    if op == 2 and ok and measurement == POLAR_SDK:
        device.sdk_mode = True
    if op == 2 and ok and measurement == (POLAR_ACC if "H10" in name else POLAR_GYRO):
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
