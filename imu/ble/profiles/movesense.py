"""Movesense sensors running the ``gatt_sensordata_app`` firmware (GATT SensorData protocol).

Facts (sources: Movesense docs "GATT SensorData Protocol"
(movesense.com/docs/esw/gatt_sensordata_protocol); movesense-device-lib
``samples/gatt_sensordata_app/GATTSensorDataClient.cpp`` and its Python client example;
Movesense API ``meas/imu.yaml``):

- Service ``34802252-7185-4d5d-b431-630e7050e8f0``; command characteristic
  ``34800001-...`` (write), data characteristic ``34800002-...`` (notify).
- Commands ``[cmd u8][reference u8, not 0][path utf-8]``: HELLO 0, SUBSCRIBE 1
  (path ``/Meas/IMU6/<rate>``), UNSUBSCRIBE 2 (no path).
- Notifications ``[type u8][reference u8][body]``: type 1 = command result (HELLO answers
  ``Hello``; a refused subscription answers a big-endian u16 HTTP status >= 400),
  type 2 = data, type 3 = the continuation of the previous type-2 data notification when
  the serialised value does not fit one notification (bodies concatenate). Type 3 is
  not in the protocol page's table; it is what the sample's own Python client handles
  (``PACKET_TYPE_DATA_PART2 = 3``: it stores a type-2 IMU9 notification and joins the
  type-3 one that follows); imu joins them the same way.
- IMU6 data body: ``u32 LE timestamp`` (ms, device clock, time of the FIRST sample),
  then N acceleration vectors (3 x float32, m/s^2) then N angular-rate vectors
  (3 x float32, deg/s); N follows from the length (4 + 24 N bytes).

A type-2 body whose length is not 4 + 24 N is held until its type-3 continuation
arrives; a held first part followed by a new type-2 is dropped (the device timestamps
show the gap), and a type-3 without a held first part, or one that does not complete it,
is a DecodeError (that packet is lost, the stream continues).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from imu.ble.profiles.base import (
    N_COLUMNS,
    DecodeError,
    Decoder,
    Frame,
    Profile,
    Write,
)
from imu.errors import DeviceError

SERVICE_UUID = "34802252-7185-4d5d-b431-630e7050e8f0"
COMMAND_UUID = "34800001-7185-4d5d-b431-630e7050e8f0"
DATA_UUID = "34800002-7185-4d5d-b431-630e7050e8f0"

HELLO = 0
SUBSCRIBE = 1
UNSUBSCRIBE = 2
RESULT = 1
DATA = 2
DATA_PART2 = 3
HELLO_REF = 0x48
IMU_REF = 0x63
BODY_HEADER = 4  # u32 timestamp
BYTES_PER_SAMPLE = 24  # 3 float32 acc + 3 float32 gyro
MS_PER_S = 1000.0
U32_WRAP = 1 << 32


def command(cmd: int, reference: int, path: str = "") -> bytes:
    """``[cmd][reference][path utf-8]``."""
    return bytes((cmd, reference)) + path.encode("utf-8")


def decode_imu6(body: bytes) -> tuple[int, np.ndarray, np.ndarray]:
    """``(timestamp_ms, acc (n, 3) m/s^2, gyr (n, 3) deg/s)`` from a complete IMU6 body."""
    if len(body) < BODY_HEADER + BYTES_PER_SAMPLE or (len(body) - BODY_HEADER) % BYTES_PER_SAMPLE:
        raise DecodeError(f"Movesense IMU6 body of {len(body)} bytes is not 4 + 24 N")
    timestamp_ms = int.from_bytes(body[:BODY_HEADER], "little")
    values = np.frombuffer(body, dtype="<f4", offset=BODY_HEADER).astype(np.float64)
    if not np.isfinite(values).all():
        raise DecodeError("Movesense IMU6 body holds non-finite values")
    n = len(values) // 6
    return timestamp_ms, values[: 3 * n].reshape(n, 3), values[3 * n :].reshape(n, 3)


class MovesenseDecoder(Decoder):
    """Reassembles data / data-part-2 notifications and decodes IMU6 bodies.

    Device time: the u32 millisecond counter, unwrapped across its 49.7-day roll-over;
    sample k of a packet is at ``timestamp + k / rate_hz``.
    """

    def __init__(self, rate_hz: float) -> None:
        self.rate_hz = float(rate_hz)
        self._pending: bytes | None = None
        self._last_ms: int | None = None
        self._wraps = 0

    def feed(self, data: bytes, char_uuid: str = DATA_UUID) -> list[Frame]:
        data = bytes(data)
        if len(data) < 2:
            raise DecodeError(f"Movesense notification of {len(data)} bytes")
        kind, reference, body = data[0], data[1], data[2:]
        if kind == RESULT:
            self._result(reference, body)
            return []
        if reference != IMU_REF:
            return []  # another client's subscription
        if kind == DATA:
            # a held first part whose continuation never came is dropped here; the device
            # timestamps show the gap to the timestamper
            self._pending = None
            if not self._whole(body):
                self._pending = body
                return []
            return self._decode(body)
        if kind == DATA_PART2:
            if self._pending is None:
                raise DecodeError("Movesense data part 2 without its first part")
            whole, self._pending = self._pending + body, None
            return self._decode(whole)
        raise DecodeError(f"Movesense notification of unknown type {kind}")

    @staticmethod
    def _whole(body: bytes) -> bool:
        return len(body) > BODY_HEADER and (len(body) - BODY_HEADER) % BYTES_PER_SAMPLE == 0

    @staticmethod
    def _result(reference: int, body: bytes) -> None:
        if reference == IMU_REF and len(body) == 2:
            status = int.from_bytes(body, "big")
            if status >= 400:
                raise DecodeError(f"Movesense refused the IMU6 subscription (status {status})")

    def _decode(self, body: bytes) -> list[Frame]:
        timestamp_ms, acc, gyr = decode_imu6(body)
        if self._last_ms is not None and timestamp_ms < self._last_ms - U32_WRAP // 2:
            self._wraps += 1
        self._last_ms = timestamp_ms
        t0 = (timestamp_ms + self._wraps * U32_WRAP) / MS_PER_S
        samples = np.empty((len(acc), N_COLUMNS))
        samples[:, 0] = t0 + np.arange(len(acc)) / self.rate_hz
        samples[:, 1:4] = acc
        samples[:, 4:7] = gyr
        return [Frame(samples)]


class MovesenseProfile(Profile):
    """Movesense with gatt_sensordata_app: HELLO, then SUBSCRIBE ``/Meas/IMU6/<rate>``."""

    def start(self, rate_hz: float, replies: Sequence[bytes] = ()) -> list[Write]:
        rate = int(self.choose_rate(rate_hz))
        return [
            Write(COMMAND_UUID, command(HELLO, HELLO_REF), True, DATA_UUID, "hello"),
            Write(
                COMMAND_UUID,
                command(SUBSCRIBE, IMU_REF, f"/Meas/IMU6/{rate}"),
                True,
                what=f"subscribe /Meas/IMU6/{rate}",
            ),
        ]

    def stop(self) -> list[Write]:
        return [Write(COMMAND_UUID, command(UNSUBSCRIBE, IMU_REF), True, what="unsubscribe")]

    def check_reply(self, write: Write, reply: bytes) -> None:
        """The HELLO reply must come back as a command result with our reference."""
        if len(reply) < 2 or reply[0] != RESULT or reply[1] != write.data[1]:
            raise DeviceError(
                f"{self.title} did not answer '{write.what}' (got {bytes(reply).hex() or 'nothing'}); "
                "flash the gatt_sensordata_app firmware (see docs/devices.md)"
            )

    def new_decoder(self, rate_hz: float) -> Decoder:
        return MovesenseDecoder(self.choose_rate(rate_hz))


MOVESENSE = MovesenseProfile(
    name="movesense",
    title="Movesense (gatt_sensordata_app firmware)",
    service_uuids=(SERVICE_UUID,),
    name_patterns=(r"^Movesense",),
    notify_uuids=(DATA_UUID,),
    write_uuid=COMMAND_UUID,
    has_gyro=True,
    default_rate_hz=104.0,
    supported_rates_hz=(13.0, 26.0, 52.0, 104.0, 208.0),
    device_clock=True,
    caveats=(
        "Needs the gatt_sensordata_app sample firmware (Movesense device library); the "
        "factory firmware has no open GATT data service. Higher rates (833, 1666 Hz) exist "
        "on the sensor but exceed what one BLE link delivers."
    ),
)
