"""Polar Measurement Data (PMD) service: Polar Verity Sense (acc + gyro) and Polar H10 (acc).

Facts (source: polarofficial/polar-ble-sdk, ``technical_documentation/`` and the Android
SDK's ``BlePMDClient.kt``, ``PmdDataFrame.kt``, ``PmdSetting.kt``,
``PmdControlPointResponse.kt``, ``model/AccData.kt``, ``model/GyrData.kt``,
``model/PmdTimeStampUtils.kt``):

- Service ``fb005c80-02e7-f387-1cad-8acd2d8df0c8``; control point ``...5c81...`` (write +
  notify replies); data ``...5c82...`` (notify).
- Measurement types: ACC 2, GYRO 5, SDK mode 9. Control point commands ``01`` get
  settings, ``02`` start, ``03`` stop. Start = ``02 <type>`` + settings
  ``<id> <count=1> <value>`` (id 0 sample rate u16, 1 resolution u16, 2 range u16,
  4 channels u8), one entry for each setting type the device's settings reply lists
  (the online-measurement document's Verity Sense ACC 52 Hz example ends in CHANNELS
  ``04 01 03``; the H10 lists no CHANNELS and is reported to refuse a start that sends it).
- Settings entries ``<id> <count> <values>``, value sizes by id (``PmdSetting.kt``):
  0 rate 2, 1 resolution 2, 2 range 2, 3 range in milli-units 4 (signed), 4 channels 1,
  5 factor 4 (float32), 6 security 16 bytes.
- Control point reply ``F0 <op> <type> <status> <more> [parameters]``; status 0 =
  success. A reply to ``01`` lists the settings the device offers; the start reply's
  parameters may hold id 5 "factor" (float32 LE) that scales samples. A parameter field
  of one byte or less holds no settings (``PmdSetting.kt`` returns none for it): the H10
  answers "start ACC" with ``F0 02 02 00 00 01``, the last byte reserved (PMD
  specification; seen in captures).
- Data frame: ``[type u8][timestamp u64 LE: ns since 2000-01-01, of the LAST sample]
  [frame type u8: bit 7 = delta compressed, bits 0-6 = type][payload]``.
  Raw ACC frame types 0/1/2: int8/int16/int24 per axis, mG, except raw type 0 on the
  Verity Sense, which is in g (online-measurement document, Table 7: "G for Verity
  Sense, mG for other devices"). Compressed ACC type 0: 16-bit
  values x factor in g; compressed ACC type 1: 16-bit values x factor in mG. Compressed
  GYRO type 0: 16-bit values x factor in deg/s; type 1: float32 deg/s.
- Delta compression: a reference sample (channels x ceil(resolution/8) bytes, signed LE),
  then blocks ``[bit width u8][count u8]`` + ``count x channels`` signed deltas of that
  width, bit-packed least-significant bit first, each block padded to whole bytes; each
  delta adds to the previous sample.

Timing: only the last sample of a frame is stamped. The SDK spreads the others over the
interval since the previous frame; we do the same when that interval matches the nominal
rate within 10 %, else (first frame, or a gap) spread back at the nominal rate.

Verity Sense streams ACC and GYRO as separate frames on the same data characteristic,
each with its own timestamps. :class:`PmdDecoder` puts them on one timeline: every
accelerometer sample is emitted with the gyroscope linearly interpolated to its time, as
soon as a gyroscope sample at or after that time has arrived. Gyro values bracketing an
accelerometer sample more than 2.5 nominal intervals apart (a lost gyro frame) give NaN
gyro for that sample rather than a made-up value; accelerometer samples older than the
first gyroscope sample of the connection are dropped (the streams start a few ms apart).

Verity Sense is always started in SDK mode: it unlocks 26-416 Hz and gives regular frame
timing (users report irregular timing outside it). SDK mode switches off the optical
heart-rate features while streaming.

Starting reads the settings first, as the SDK advises (``SdkModeExplained.md``: read the
currently available settings before starting a stream): :meth:`PolarProfile.prepare`
turns SDK mode on (Verity) and asks for the ACC (and GYRO) settings; :meth:`PolarProfile.start`
then sends a combination the replies offer.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from imu.ble.profiles.base import (
    DecodeError,
    Decoder,
    Frame,
    Profile,
    Write,
    normalise_uuid,
    samples_array,
)
from imu.errors import DeviceError

SERVICE_UUID = "fb005c80-02e7-f387-1cad-8acd2d8df0c8"
CONTROL_UUID = "fb005c81-02e7-f387-1cad-8acd2d8df0c8"
DATA_UUID = "fb005c82-02e7-f387-1cad-8acd2d8df0c8"

ACC = 2
GYRO = 5
SDK_MODE = 9
OP_SETTINGS = 0x01
OP_START = 0x02
OP_STOP = 0x03
REPLY = 0xF0
HEADER_LENGTH = 10
NS_PER_S = 1e9
AXES = 3

SETTING_RATE = 0
SETTING_RESOLUTION = 1
SETTING_RANGE = 2
SETTING_RANGE_MILLI = 3
SETTING_CHANNELS = 4
SETTING_FACTOR = 5
SETTING_SECURITY = 6
SETTING_SIZES = {0: 2, 1: 2, 2: 2, 3: 4, 4: 1, 5: 4, 6: 16}
"""Bytes per value of each setting id (polar-ble-sdk ``PmdSetting.kt``, typeToFieldSize)."""
RESOLUTION_BITS = 16

STATUS_MESSAGES = {
    1: "invalid op code",
    2: "invalid measurement type",
    3: "measurement not supported",
    4: "invalid length",
    5: "invalid parameter",
    6: "already in that state",
    7: "invalid resolution",
    8: "invalid sample rate",
    9: "invalid range",
    10: "invalid MTU",
    11: "invalid number of channels",
    12: "invalid state",
    13: "device is on its charger",
    14: "disk full",
}
STATUS_ALREADY = 6
TYPE_NAMES = {ACC: "accelerometer", GYRO: "gyroscope", SDK_MODE: "SDK mode"}

RATE_MATCH_TOLERANCE = 0.10
GYRO_BRACKET_INTERVALS = 2.5
MAX_WAIT_S = 1.0  # emit accelerometer samples with NaN gyro after waiting this long


def settings_bytes(
    rate_hz: int, resolution_bits: int, range_value: int, channels: int | None = None
) -> bytes:
    """Serialised start settings: rate (Hz), resolution (bits), range (g or deg/s) and,
    when given, the channel count (one byte)."""
    out = b"".join(
        struct.pack("<BBH", setting, 1, value)
        for setting, value in (
            (SETTING_RATE, rate_hz),
            (SETTING_RESOLUTION, resolution_bits),
            (SETTING_RANGE, range_value),
        )
    )
    if channels is not None:
        out += bytes((SETTING_CHANNELS, 1, channels))
    return out


def parse_settings(data: bytes) -> dict[int, list[int | float]]:
    """Parse a settings list ``<id> <count> <values...>``; factor (id 5) as float32,
    range in milli-units (id 3) signed, security (id 6) as one 16-byte integer.

    A field of one byte or less holds no settings (the H10's reserved byte after a start
    reply; ``PmdSetting.kt`` returns no settings for it).
    """
    out: dict[int, list[int | float]] = {}
    if len(data) <= 1:
        return out
    i = 0
    while i < len(data):
        if i + 2 > len(data) or data[i] not in SETTING_SIZES:
            raise DecodeError(f"PMD settings: bad entry at byte {i}: {data[i:].hex()}")
        setting, count = data[i], data[i + 1]
        size = SETTING_SIZES[setting]
        i += 2
        if i + count * size > len(data):
            raise DecodeError("PMD settings: truncated values")
        values: list[int | float] = []
        for _ in range(count):
            chunk = data[i : i + size]
            if setting == SETTING_FACTOR:
                values.append(struct.unpack("<f", chunk)[0])
            else:
                signed = setting == SETTING_RANGE_MILLI
                values.append(int.from_bytes(chunk, "little", signed=signed))
            i += size
        out[setting] = values
    return out


@dataclass(frozen=True)
class ControlReply:
    """A parsed control-point reply ``F0 <op> <type> <status> <more> [settings]``."""

    op: int
    measurement: int
    status: int
    settings: dict[int, list[int | float]]

    @classmethod
    def parse(cls, data: bytes) -> ControlReply:
        if len(data) < 4 or data[0] != REPLY:
            raise DecodeError(f"not a PMD control point reply: {data.hex()}")
        settings = parse_settings(data[5:]) if data[3] == 0 and len(data) > 5 else {}
        return cls(op=data[1], measurement=data[2], status=data[3], settings=settings)


def unpack_deltas(block: bytes, bit_width: int, n_values: int) -> np.ndarray:
    """``n_values`` signed ``bit_width``-bit integers packed least-significant bit first."""
    bits = np.unpackbits(np.frombuffer(block, dtype=np.uint8), bitorder="little")
    bits = bits[: n_values * bit_width].reshape(n_values, bit_width).astype(np.int64)
    values = bits @ (np.int64(1) << np.arange(bit_width, dtype=np.int64))
    sign = np.int64(1) << (bit_width - 1)
    return (values ^ sign) - sign


def decode_delta_frame(payload: bytes, resolution_bits: int, channels: int = AXES) -> np.ndarray:
    """Samples ``(n, channels)`` int64 from a delta-compressed PMD payload."""
    width = (resolution_bits + 7) // 8
    ref_length = channels * width
    if len(payload) < ref_length:
        raise DecodeError("PMD delta frame shorter than its reference sample")
    ref = [
        int.from_bytes(payload[k * width : (k + 1) * width], "little", signed=True)
        for k in range(channels)
    ]
    rows = [np.array(ref, dtype=np.int64).reshape(1, channels)]
    i = ref_length
    while i < len(payload):
        if i + 2 > len(payload):
            raise DecodeError("PMD delta frame: truncated block header")
        bit_width, count = payload[i], payload[i + 1]
        i += 2
        if bit_width == 0 or bit_width > 32:
            raise DecodeError(f"PMD delta frame: bad delta bit width {bit_width}")
        n_bytes = (bit_width * count * channels + 7) // 8
        if i + n_bytes > len(payload):
            raise DecodeError("PMD delta frame: truncated delta block")
        deltas = unpack_deltas(payload[i : i + n_bytes], bit_width, count * channels)
        rows.append(deltas.reshape(count, channels))
        i += n_bytes
    return np.cumsum(np.concatenate(rows), axis=0)


def decode_raw_acc(payload: bytes, frame_type: int) -> np.ndarray:
    """Uncompressed ACC frame types 0/1/2 (int8/16/24 per axis) -> ``(n, 3)`` counts."""
    width = frame_type + 1
    if len(payload) % (AXES * width):
        raise DecodeError(f"PMD ACC frame: {len(payload)} bytes is not whole samples")
    raw = np.frombuffer(payload, dtype=np.uint8).reshape(-1, width).astype(np.int64)
    values = raw @ (np.int64(1) << (8 * np.arange(width, dtype=np.int64)))
    sign = np.int64(1) << (8 * width - 1)
    return ((values ^ sign) - sign).reshape(-1, AXES).astype(np.float64)


def decode_float_frame(payload: bytes) -> np.ndarray:
    """Compressed float32 frame: the delta arithmetic runs on the IEEE-754 bit patterns."""
    bits = decode_delta_frame(payload, 32) & 0xFFFFFFFF
    return bits.astype(np.uint32).view(np.float32).astype(np.float64)


class PmdDecoder(Decoder):
    """Decodes PMD data frames (ACC, and GYRO when ``with_gyro``) onto one timeline.

    ``rate_hz``: the nominal rate both streams were started at. Control-point replies fed
    to :meth:`feed` update the scale factors (start reply, setting id 5).
    ``raw_acc_type0_g``: g per count of raw ACC frame type 0 (1.0 on the Verity Sense,
    0.001 elsewhere).
    """

    def __init__(self, rate_hz: float, with_gyro: bool, raw_acc_type0_g: float = 0.001) -> None:
        self.rate_hz = float(rate_hz)
        self.with_gyro = with_gyro
        self.raw_acc_type0_g = float(raw_acc_type0_g)
        self._factor = {ACC: 1.0, GYRO: 1.0}
        self._last_ns: dict[int, int] = {}
        self._acc = np.empty((0, 4))  # pending [t_s, acc_x, acc_y, acc_z in g]
        self._gyr = np.empty((0, 4))  # [t_s, gyr_x, gyr_y, gyr_z deg/s], last few kept
        self._gyro_start_s: float | None = None

    def feed(self, data: bytes, char_uuid: str = DATA_UUID) -> list[Frame]:
        data = bytes(data)
        if normalise_uuid(char_uuid) == CONTROL_UUID:
            self._control(data)
            return []
        if len(data) < HEADER_LENGTH:
            raise DecodeError(f"PMD data frame of {len(data)} bytes is shorter than its header")
        measurement = data[0] & 0x3F
        if measurement not in (ACC, GYRO) or (measurement == GYRO and not self.with_gyro):
            return []  # a stream this profile did not start (e.g. PPG on the same device)
        stamp_ns = int.from_bytes(data[1:9], "little")
        values = self._values(measurement, data[9], data[HEADER_LENGTH:])
        if len(values) == 0:
            return []
        if not np.isfinite(values).all():
            raise DecodeError("PMD frame decodes to non-finite values")
        t = self._times(measurement, stamp_ns, len(values))
        block = np.column_stack([t, values])
        if measurement == ACC:
            self._acc = np.concatenate([self._acc, block])
        else:
            if self._gyro_start_s is None:
                self._gyro_start_s = float(t[0])
            self._gyr = np.concatenate([self._gyr, block])
        return self._emit()

    def _control(self, data: bytes) -> None:
        reply = ControlReply.parse(data)
        factor = reply.settings.get(SETTING_FACTOR)
        if reply.op == OP_START and reply.measurement in self._factor and factor:
            self._factor[reply.measurement] = float(factor[0])

    def _values(self, measurement: int, frame_type_byte: int, payload: bytes) -> np.ndarray:
        """Payload -> ``(n, 3)`` in g (ACC) or deg/s (GYRO)."""
        compressed = bool(frame_type_byte & 0x80)
        frame_type = frame_type_byte & 0x7F
        factor = self._factor[measurement]
        if measurement == ACC:
            if not compressed and frame_type == 0:
                return decode_raw_acc(payload, frame_type) * self.raw_acc_type0_g
            if not compressed and frame_type in (1, 2):
                return decode_raw_acc(payload, frame_type) / 1000.0
            if compressed and frame_type == 0:
                return decode_delta_frame(payload, 16) * factor
            if compressed and frame_type == 1:
                return decode_delta_frame(payload, 16) * factor / 1000.0
        elif compressed and frame_type == 0:
            return decode_delta_frame(payload, 16) * factor
        elif compressed and frame_type == 1:
            return decode_float_frame(payload) * factor
        raise DecodeError(
            f"PMD {TYPE_NAMES[measurement]} frame type 0x{frame_type_byte:02x} is not supported"
        )

    def _times(self, measurement: int, stamp_ns: int, n: int) -> np.ndarray:
        """Device times (s) of ``n`` samples whose last one is stamped ``stamp_ns``."""
        nominal_ns = NS_PER_S / self.rate_hz
        step_ns = nominal_ns
        previous = self._last_ns.get(measurement)
        if previous is not None:
            measured = (stamp_ns - previous) / n
            if abs(measured - nominal_ns) <= RATE_MATCH_TOLERANCE * nominal_ns:
                step_ns = measured
        self._last_ns[measurement] = stamp_ns
        return (stamp_ns - step_ns * np.arange(n - 1, -1, -1)) / NS_PER_S

    def _emit(self) -> list[Frame]:
        acc = self._acc
        if not self.with_gyro:
            self._acc = acc[:0]
            return [Frame(samples_array(acc[:, 0], acc[:, 1:], None))]
        gyr = self._gyr
        if len(gyr) == 0:  # gyro stream not started yet: keep only the last MAX_WAIT_S
            self._acc = acc[acc[:, 0] >= acc[-1, 0] - MAX_WAIT_S]
            return []
        acc = acc[acc[:, 0] >= self._gyro_start_s]
        if len(acc) == 0:
            self._acc = acc
            return []
        ready = (acc[:, 0] <= gyr[-1, 0]) | (acc[:, 0] < acc[-1, 0] - MAX_WAIT_S)
        out, self._acc = acc[ready], acc[~ready]
        if len(out) == 0:
            return []
        gyro = np.column_stack([np.interp(out[:, 0], gyr[:, 0], gyr[:, k]) for k in (1, 2, 3)])
        right = np.searchsorted(gyr[:, 0], out[:, 0])
        inside = (right > 0) & (right < len(gyr))
        exact = np.isin(out[:, 0], gyr[:, 0])
        span = np.full(len(out), np.inf)
        span[inside] = gyr[right[inside], 0] - gyr[right[inside] - 1, 0]
        gyro[~exact & (span > GYRO_BRACKET_INTERVALS / self.rate_hz)] = np.nan
        # keep the gyro samples that can still bracket future accelerometer samples
        self._gyr = gyr[max(0, int(np.searchsorted(gyr[:, 0], out[-1, 0])) - 1) :]
        return [Frame(samples_array(out[:, 0], out[:, 1:], gyro))]


@dataclass(frozen=True)
class PolarProfile(Profile):
    """A Polar PMD device: ACC (and GYRO when ``has_gyro``) started via the control point.

    ``acc_range_g`` / ``gyro_range_deg_s``: ranges requested at start; ``sdk_mode``: start
    SDK mode first (Verity Sense); ``default_channels``: the CHANNELS setting sent when
    no settings reply was read (None: the device has no such setting);
    ``raw_acc_type0_g``: g per count of raw (uncompressed) ACC frame type 0.
    """

    acc_range_g: int = 8
    gyro_range_deg_s: int = 2000
    sdk_mode: bool = False
    default_channels: int | None = None
    raw_acc_type0_g: float = 0.001

    def _control_write(self, payload: bytes, what: str) -> Write:
        return Write(CONTROL_UUID, payload, response=True, reply_uuid=CONTROL_UUID, what=what)

    def _measurements(self) -> list[tuple[int, int, str]]:
        """``(type, range requested, range unit)`` of the streams this profile starts."""
        streams = [(ACC, self.acc_range_g, "g")]
        if self.has_gyro:
            streams.append((GYRO, self.gyro_range_deg_s, "deg/s"))
        return streams

    def prepare(self, rate_hz: float) -> list[Write]:
        """SDK mode on (Verity Sense), then "get settings" for ACC (and GYRO)."""
        writes = []
        if self.sdk_mode:
            writes.append(self._control_write(bytes((OP_START, SDK_MODE)), "start SDK mode"))
        for measurement, _, _ in self._measurements():
            writes.append(
                self._control_write(
                    bytes((OP_SETTINGS, measurement)), f"get {TYPE_NAMES[measurement]} settings"
                )
            )
        return writes

    def start(self, rate_hz: float, replies: Sequence[bytes] = ()) -> list[Write]:
        """Start ACC (and GYRO) at ``rate_hz`` with settings the ``replies`` to
        :meth:`prepare` offer; without replies, the documented defaults (16 bit, the
        profile's ranges, ``default_channels`` when set)."""
        rate = int(self.choose_rate(rate_hz))
        offered: dict[int, dict[int, list[int | float]]] = {}
        for reply in replies:
            parsed = ControlReply.parse(reply)
            if parsed.op == OP_SETTINGS:
                offered[parsed.measurement] = parsed.settings
        writes = []
        for measurement, wanted_range, unit in self._measurements():
            name = TYPE_NAMES[measurement]
            if measurement in offered:
                resolution, range_value, channels = self._choose(
                    name, rate, wanted_range, unit, offered[measurement]
                )
            else:
                resolution, range_value, channels = (
                    RESOLUTION_BITS,
                    wanted_range,
                    self.default_channels,
                )
            what = f"start {name} {rate} Hz, {resolution} bit, {range_value} {unit}"
            payload = bytes((OP_START, measurement)) + settings_bytes(
                rate, resolution, range_value, channels
            )
            writes.append(self._control_write(payload, what))
        return writes

    def _choose(
        self, name: str, rate: int, wanted_range: int, unit: str, offered: dict
    ) -> tuple[int, int, int | None]:
        """Resolution, range and channels (None: not a setting of this device) to start
        with: 16 bit and the wanted range when offered, else the finest resolution and
        the widest range (clipping loses the lift; a coarse step does not)."""
        rates = offered.get(SETTING_RATE, [])
        if rates and rate not in rates:
            listed = ", ".join(f"{r:g}" for r in sorted(rates))
            raise DeviceError(
                f"{self.title} offers its {name} at {listed} Hz, not {rate} Hz "
                "(choose one of those with --rate)"
            )
        resolutions = [int(v) for v in offered.get(SETTING_RESOLUTION, [])]
        resolution = (
            RESOLUTION_BITS
            if not resolutions or RESOLUTION_BITS in resolutions
            else max(resolutions)
        )
        ranges = [int(v) for v in offered.get(SETTING_RANGE, [])]
        range_value = wanted_range if not ranges or wanted_range in ranges else max(ranges)
        channels = offered.get(SETTING_CHANNELS)
        return resolution, range_value, (int(max(channels)) if channels else None)

    def stop(self) -> list[Write]:
        types = [*([GYRO] if self.has_gyro else []), ACC, *([SDK_MODE] if self.sdk_mode else [])]
        return [
            Write(CONTROL_UUID, bytes((OP_STOP, t)), response=True, what=f"stop {TYPE_NAMES[t]}")
            for t in types
        ]

    def check_reply(self, write: Write, reply: bytes) -> None:
        """Raise DeviceError unless ``reply`` reports success for ``write``."""
        try:
            parsed = ControlReply.parse(reply)
        except DecodeError as exc:
            raise DeviceError(f"{self.title}: unreadable reply to '{write.what}': {exc}") from exc
        if parsed.op != write.data[0] or parsed.measurement != write.data[1]:
            raise DeviceError(
                f"{self.title}: reply {reply.hex()} does not answer '{write.what}'"
                " (another app may be connected to the sensor; close it and retry)"
            )
        if parsed.status == 0 or (parsed.status == STATUS_ALREADY and parsed.op == OP_START):
            return
        reason = STATUS_MESSAGES.get(parsed.status, f"error code {parsed.status}")
        hint = (
            "take the sensor off its charger"
            if parsed.status == 13
            else "update the sensor firmware or choose another --rate"
        )
        raise DeviceError(f"{self.title} refused '{write.what}': {reason} ({hint})")

    def new_decoder(self, rate_hz: float) -> Decoder:
        return PmdDecoder(
            self.choose_rate(rate_hz), with_gyro=self.has_gyro, raw_acc_type0_g=self.raw_acc_type0_g
        )


_PMD = {
    "service_uuids": (SERVICE_UUID,),
    "notify_uuids": (CONTROL_UUID, DATA_UUID),
    "write_uuid": CONTROL_UUID,
    "device_clock": True,
}

POLAR_VERITY = PolarProfile(
    name="polar-verity",
    title="Polar Verity Sense",
    name_patterns=(r"^Polar Sense\b", r"Verity"),
    has_gyro=True,
    default_rate_hz=104.0,
    supported_rates_hz=(26.0, 52.0, 104.0, 208.0, 416.0),
    caveats=(
        "Started in SDK mode (26-416 Hz, regular timing); optical heart rate is off while "
        "streaming. Accelerometer and gyroscope arrive as separate frames and are merged "
        "on the device clock (gyro interpolated to accelerometer times)."
    ),
    sdk_mode=True,
    default_channels=3,
    raw_acc_type0_g=1.0,
    **_PMD,
)

POLAR_H10 = PolarProfile(
    name="polar-h10",
    title="Polar H10",
    name_patterns=(r"^Polar H10\b",),
    has_gyro=False,
    default_rate_hz=100.0,
    supported_rates_hz=(25.0, 50.0, 100.0, 200.0),
    caveats=(
        "Accelerometer only (no gyroscope): gyro columns are NaN. Trunk angles come from "
        "gravity alone (imu's accelerometer-only mode: about 4 deg flexion RMSE against "
        "under 1 deg with a gyro, on simulated lifts), so they lag and are disturbed by the "
        "bar's acceleration during fast pulls; twist and twist range cannot be measured; "
        "angular velocities are differentiated angles. Worn on a chest strap it measures the thorax, not the lumbar spine, "
        "unless the strap is moved to the lower back."
    ),
    **_PMD,
)
