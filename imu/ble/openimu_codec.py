"""OpenIMU: this project's own BLE profile for DIY boards — pure packet codec.

The byte-by-byte specification, with the reasoning behind each field, is
``firmware_notes/open-profile.md``; the reference firmware encodes with the portable C
file ``firmware_notes/openimu/openimu_packet.c``, and the tests check both against the
shared vectors in ``tests/vectors/openimu_vectors.json``.

Data notification (little-endian)::

    offset size  field
    0      1     version            format version, 1
    1      1     count              samples in this notification, 1..MAX_SAMPLES
    2      2     sequence           index of the first sample, modulo 2**16
    4      4     device_time_us     device clock at the first sample, microseconds, mod 2**32
    8      1     ranges             low nibble accelerometer range code, high nibble gyro code
    9      1     flags              bit 0: samples were lost on the device before this packet
    10     2     rate_dhz           nominal output data rate, units of 0.1 Hz
    12     12*n  samples            int16 acc_x, acc_y, acc_z, gyr_x, gyr_y, gyr_z per sample

Wire units: one accelerometer count is ``full_scale_g / 32768`` g, one gyroscope count
``full_scale_deg_s / 32768`` deg/s, where the full scale is set by the range code; axes
are the sensor's (right-handed, docs/coordinates.md). Everything here is pure: bytes in,
values out, and the only exception raised is :class:`OpenImuError`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from imu.session import STANDARD_GRAVITY

_BASE = "af5e{:04x}-f579-4cea-b679-7a7de096440c"
SERVICE_UUID = _BASE.format(0x0001)
"""Primary service of the profile (advertised, so scans recognise the board)."""
DATA_UUID = _BASE.format(0x0002)
"""Data characteristic: notify; one packet (header + samples) per notification."""
CONFIG_UUID = _BASE.format(0x0003)
"""Configuration characteristic: read/write; rate, ranges, latency, start/stop."""
INFO_UUID = _BASE.format(0x0004)
"""Sensor description characteristic: read-only UTF-8 ``key=value;...`` text."""
DEVICE_INFORMATION_SERVICE_UUID = "0000180a-0000-1000-8000-00805f9b34fb"
"""Bluetooth SIG Device Information Service (manufacturer, model, firmware revision)."""
BATTERY_SERVICE_UUID = "0000180f-0000-1000-8000-00805f9b34fb"
"""Bluetooth SIG Battery Service (battery level in %, 0x2A19)."""

FORMAT_VERSION = 1
HEADER_SIZE = 12
SAMPLE_SIZE = 12
CONFIG_SIZE = 6
ATT_HEADER_SIZE = 3
"""Bytes of an ATT notification that are not value: opcode (1) + handle (2)."""
MAX_ATTRIBUTE_SIZE = 512
"""Longest attribute value the Bluetooth Core specification allows (Vol 3, Part F, 3.2.9)."""
MAX_SAMPLES = (MAX_ATTRIBUTE_SIZE - HEADER_SIZE) // SAMPLE_SIZE
"""Most samples one packet may hold (41), whatever the MTU."""
MIN_MTU = ATT_HEADER_SIZE + HEADER_SIZE + SAMPLE_SIZE
"""Smallest ATT MTU that carries one sample (27); the BLE default of 23 does not."""

ACC_RANGES_G = (2, 4, 8, 16)
"""Accelerometer full scale (+-g) by range code 0..3."""
GYR_RANGES_DEG_S = (125, 250, 500, 1000, 2000)
"""Gyroscope full scale (+-deg/s) by range code 0..4."""

FLAG_DEVICE_OVERRUN = 0x01
"""Flags bit 0: the device lost samples it could not count (e.g. its FIFO overflowed)."""
_KNOWN_FLAGS = FLAG_DEVICE_OVERRUN

COMMAND_STOP = 0
COMMAND_START = 1

_HEADER = struct.Struct("<BBHIBBH")
_CONFIG = struct.Struct("<BBHBB")
_WIRE_DTYPE = np.dtype("<i2")


class OpenImuError(ValueError):
    """Bytes or values that are not a valid OpenIMU packet, configuration or description."""


@dataclass(frozen=True, eq=False)
class Packet:
    """One decoded data notification.

    ``raw``: ``(count, 6)`` int16 wire counts ``acc_x, acc_y, acc_z, gyr_x, gyr_y, gyr_z``
    (sensor frame). ``sequence``: index of the first sample modulo 2**16.
    ``device_time_us``: device clock (microseconds, modulo 2**32) at the first sample.
    ``sampling_rate_hz``: nominal output data rate; sample ``i`` was taken at about
    ``device_time_us + i * 1e6 / sampling_rate_hz``. ``device_overrun``: the device lost
    samples before this packet that the sequence number does not count.
    """

    version: int
    sequence: int
    device_time_us: int
    acc_range_code: int
    gyr_range_code: int
    sampling_rate_hz: float
    device_overrun: bool
    raw: np.ndarray

    @property
    def count(self) -> int:
        """Number of samples in the packet."""
        return int(self.raw.shape[0])

    @property
    def acc_m_s2(self) -> np.ndarray:
        """``(count, 3)`` float64 specific force in m/s^2 (gravity included), sensor frame."""
        return self.raw[:, :3] * (acc_count_g(self.acc_range_code) * STANDARD_GRAVITY)

    @property
    def gyr_deg_s(self) -> np.ndarray:
        """``(count, 3)`` float64 angular rate in deg/s, sensor frame, right-handed."""
        return self.raw[:, 3:] * gyr_count_deg_s(self.gyr_range_code)

    @property
    def offsets_s(self) -> np.ndarray:
        """``(count,)`` nominal time of each sample after the first, seconds."""
        return np.arange(self.count) / self.sampling_rate_hz


@dataclass(frozen=True)
class Config:
    """Contents of the configuration characteristic.

    ``start``: stream (True) or stop (False). ``sampling_rate_hz``: requested output data
    rate (0.1 Hz resolution; the device uses the nearest rate it supports and reports it
    in every packet and on read). ``max_latency_ms``: longest a sample may wait on the
    device before it is sent (1..255); fewer, fuller notifications with larger values.
    """

    start: bool
    sampling_rate_hz: float
    acc_range_code: int
    gyr_range_code: int
    max_latency_ms: int = 50


def acc_count_g(code: int) -> float:
    """Accelerometer wire count in g for range ``code`` (OpenImuError if unknown)."""
    if not 0 <= code < len(ACC_RANGES_G):
        raise OpenImuError(f"unknown accelerometer range code {code} (valid: 0..3)")
    return ACC_RANGES_G[code] / 32768.0


def gyr_count_deg_s(code: int) -> float:
    """Gyroscope wire count in deg/s for range ``code`` (OpenImuError if unknown)."""
    if not 0 <= code < len(GYR_RANGES_DEG_S):
        raise OpenImuError(f"unknown gyroscope range code {code} (valid: 0..4)")
    return GYR_RANGES_DEG_S[code] / 32768.0


def max_samples_per_notification(mtu: int) -> int:
    """Samples that fit one notification at ATT MTU ``mtu`` (at most MAX_SAMPLES).

    A notification carries ``mtu - 3`` bytes of value. Raises OpenImuError if ``mtu``
    cannot carry one sample (below MIN_MTU = 27).
    """
    if mtu < MIN_MTU:
        raise OpenImuError(f"ATT MTU {mtu} cannot carry one sample (need at least {MIN_MTU})")
    return min(MAX_SAMPLES, (mtu - ATT_HEADER_SIZE - HEADER_SIZE) // SAMPLE_SIZE)


def _rate_dhz(sampling_rate_hz: float) -> int:
    rate_dhz = round(sampling_rate_hz * 10)
    if not 1 <= rate_dhz <= 0xFFFF or abs(sampling_rate_hz * 10 - rate_dhz) > 1e-6:
        raise OpenImuError(
            f"sampling rate {sampling_rate_hz!r} Hz is not a multiple of 0.1 Hz in 0.1..6553.5"
        )
    return rate_dhz


def _check_uint(name: str, value: int, bits: int) -> None:
    if not 0 <= value < (1 << bits):
        raise OpenImuError(f"{name} {value} out of range for an unsigned {bits}-bit field")


def _ranges_byte(acc_range_code: int, gyr_range_code: int) -> int:
    acc_count_g(acc_range_code)
    gyr_count_deg_s(gyr_range_code)
    return acc_range_code | (gyr_range_code << 4)


def encode_packet(
    raw: np.ndarray,
    *,
    sequence: int,
    device_time_us: int,
    acc_range_code: int,
    gyr_range_code: int,
    sampling_rate_hz: float,
    device_overrun: bool = False,
) -> bytes:
    """Encode one data notification (the inverse of :func:`decode_packet`).

    ``raw``: ``(n, 6)`` integer wire counts (1 <= n <= MAX_SAMPLES, each in int16
    range), e.g. from :func:`counts_from_si`. Raises OpenImuError on any invalid field.
    """
    counts = np.asarray(raw)
    if counts.ndim != 2 or counts.shape[1] != 6 or not 1 <= counts.shape[0] <= MAX_SAMPLES:
        raise OpenImuError(
            f"samples must be (n, 6) with 1 <= n <= {MAX_SAMPLES}, got {counts.shape}"
        )
    if not np.issubdtype(counts.dtype, np.integer):
        raise OpenImuError(f"samples must be integer wire counts, got {counts.dtype}")
    if counts.size and (counts.min() < -32768 or counts.max() > 32767):
        raise OpenImuError("sample counts must fit int16 (-32768..32767)")
    _check_uint("sequence", sequence, 16)
    _check_uint("device_time_us", device_time_us, 32)
    header = _HEADER.pack(
        FORMAT_VERSION,
        counts.shape[0],
        sequence,
        device_time_us,
        _ranges_byte(acc_range_code, gyr_range_code),
        FLAG_DEVICE_OVERRUN if device_overrun else 0,
        _rate_dhz(sampling_rate_hz),
    )
    return header + counts.astype(_WIRE_DTYPE).tobytes()


def decode_packet(data: bytes) -> Packet:
    """Decode one data notification; raises OpenImuError (only) if it is malformed.

    Rejected: fewer than HEADER_SIZE bytes, another format version, a count of 0 or a
    length that disagrees with the count, unknown range codes or flag bits, rate 0.
    """
    data = bytes(data)
    if len(data) < HEADER_SIZE:
        raise OpenImuError(
            f"packet of {len(data)} bytes is shorter than its {HEADER_SIZE}-byte header"
        )
    version, count, sequence, time_us, ranges, flags, rate_dhz = _HEADER.unpack_from(data)
    if version != FORMAT_VERSION:
        raise OpenImuError(
            f"format version {version} is not supported (this decoder reads {FORMAT_VERSION})"
        )
    expected = HEADER_SIZE + SAMPLE_SIZE * count
    if count == 0 or count > MAX_SAMPLES or len(data) != expected:
        raise OpenImuError(
            f"packet of {len(data)} bytes does not match its sample count {count}"
            f" (expected {expected} bytes, 1..{MAX_SAMPLES} samples)"
        )
    acc_code, gyr_code = ranges & 0x0F, ranges >> 4
    acc_count_g(acc_code)
    gyr_count_deg_s(gyr_code)
    if flags & ~_KNOWN_FLAGS:
        raise OpenImuError(f"unknown flag bits 0x{flags & ~_KNOWN_FLAGS:02x}")
    if rate_dhz == 0:
        raise OpenImuError("sampling rate field is 0")
    raw = np.frombuffer(data, dtype=_WIRE_DTYPE, offset=HEADER_SIZE).astype(np.int16)
    return Packet(
        version=version,
        sequence=sequence,
        device_time_us=time_us,
        acc_range_code=acc_code,
        gyr_range_code=gyr_code,
        sampling_rate_hz=rate_dhz / 10,
        device_overrun=bool(flags & FLAG_DEVICE_OVERRUN),
        raw=raw.reshape(count, 6),
    )


def counts_from_si(
    acc_m_s2: np.ndarray, gyr_deg_s: np.ndarray, acc_range_code: int, gyr_range_code: int
) -> np.ndarray:
    """``(n, 6)`` int16 wire counts from acc (m/s^2) and gyro (deg/s), each ``(n, 3)``.

    Rounds half away from zero and saturates at -32768/32767 (values beyond the range
    clip, as a real sensor does), exactly like ``openimu_acc_counts`` /
    ``openimu_gyr_counts`` in the C encoder.
    """
    acc_g = np.asarray(acc_m_s2, dtype=np.float64) / STANDARD_GRAVITY
    acc = acc_g / acc_count_g(acc_range_code)
    gyr = np.asarray(gyr_deg_s, dtype=np.float64) / gyr_count_deg_s(gyr_range_code)
    scaled = np.concatenate([acc.reshape(-1, 3), gyr.reshape(-1, 3)], axis=1)
    if not np.isfinite(scaled).all():
        raise OpenImuError("samples must be finite to encode")
    rounded = np.sign(scaled) * np.floor(np.abs(scaled) + 0.5)
    return np.clip(rounded, -32768, 32767).astype(np.int16)


def lost_samples(previous: Packet, current: Packet) -> int:
    """Samples missing between two consecutive received packets (0 if none).

    From the sequence numbers modulo 2**16: exact for gaps shorter than 65536 samples
    (2.6 min at 416 Hz); longer gaps show in ``device_time_us``. Samples dropped on the
    device without being counted are flagged by ``current.device_overrun`` instead.
    """
    return (current.sequence - previous.sequence - previous.count) % (1 << 16)


def elapsed_us(previous: Packet, current: Packet) -> int:
    """Device-clock microseconds from ``previous``'s first sample to ``current``'s.

    Modulo 2**32 (the device clock wraps every 71.6 min), so correct for gaps shorter
    than that.
    """
    return (current.device_time_us - previous.device_time_us) % (1 << 32)


def encode_config(config: Config) -> bytes:
    """Bytes to write to (or read from) the configuration characteristic (6 bytes).

    Layout: version u8, command u8 (0 stop, 1 start), rate_dhz u16 LE, ranges u8 (acc
    code low nibble, gyro code high nibble), max_latency_ms u8.
    """
    if not 1 <= config.max_latency_ms <= 255:
        raise OpenImuError(f"max_latency_ms {config.max_latency_ms} out of range 1..255")
    return _CONFIG.pack(
        FORMAT_VERSION,
        COMMAND_START if config.start else COMMAND_STOP,
        _rate_dhz(config.sampling_rate_hz),
        _ranges_byte(config.acc_range_code, config.gyr_range_code),
        config.max_latency_ms,
    )


def decode_config(data: bytes) -> Config:
    """Parse the configuration characteristic; raises OpenImuError if malformed."""
    data = bytes(data)
    if len(data) != CONFIG_SIZE:
        raise OpenImuError(f"configuration must be {CONFIG_SIZE} bytes, got {len(data)}")
    version, command, rate_dhz, ranges, latency_ms = _CONFIG.unpack(data)
    if version != FORMAT_VERSION:
        raise OpenImuError(f"configuration version {version} is not supported")
    if command not in (COMMAND_STOP, COMMAND_START):
        raise OpenImuError(f"unknown configuration command {command} (0 stop, 1 start)")
    acc_code, gyr_code = ranges & 0x0F, ranges >> 4
    acc_count_g(acc_code)
    gyr_count_deg_s(gyr_code)
    if rate_dhz == 0 or latency_ms == 0:
        raise OpenImuError("configuration rate and latency must be non-zero")
    return Config(
        start=command == COMMAND_START,
        sampling_rate_hz=rate_dhz / 10,
        acc_range_code=acc_code,
        gyr_range_code=gyr_code,
        max_latency_ms=latency_ms,
    )


INFO_KEYS = ("profile", "board", "imu", "axes", "rates_hz", "acc_ranges_g", "gyr_ranges_deg_s")
"""Keys the sensor description must contain; more keys may follow."""


def decode_info(data: bytes) -> dict[str, str]:
    """Parse the sensor description: UTF-8 ``key=value`` pairs separated by ``;``.

    Example: ``profile=openimu/1;board=xiao-nrf52840-sense;imu=LSM6DS3TR-C;axes=...``.
    Raises OpenImuError if it is not UTF-8, a pair has no ``=``, a key repeats or a
    key of INFO_KEYS is missing.
    """
    try:
        text = bytes(data).decode("utf-8")
    except UnicodeDecodeError:
        raise OpenImuError("sensor description is not UTF-8 text") from None
    info: dict[str, str] = {}
    for pair in filter(None, text.split(";")):
        key, sep, value = pair.partition("=")
        if not sep or not key or key in info:
            raise OpenImuError(f"sensor description: bad or repeated entry {pair!r}")
        info[key] = value
    missing = [k for k in INFO_KEYS if k not in info]
    if missing:
        raise OpenImuError(f"sensor description lacks {', '.join(missing)}")
    return info
