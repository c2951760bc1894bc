"""WitMotion BWT901BLE / WT901BLECL / WT9011DCL (BLE 5.0 modules), the cheapest common BLE IMU.

Facts (sources: WITMOTION/WitBluetooth_BWT901BLE5_0 Python SDK ``device_model.py``;
WITMOTION/WitStandardProtocol_JY901 ``REG.h``; WT901BLECL datasheet):

- Service ``0000ffe5-0000-1000-8000-00805f9a34fb``, notify ``...ffe4...``, write
  ``...ffe9...``. The base ends in ``9a34fb``, not the Bluetooth base ``9b34fb``, so the
  16-bit shorthand ``ffe5`` names a different UUID: always use the full strings.
- Data packet, 20 bytes: ``55 61`` then 9 int16 LE: acc x, y, z (raw/32768*16 g), gyro
  x, y, z (raw/32768*2000 deg/s), roll, pitch, yaw (raw/32768*180 deg, unused here).
  No checksum, no sequence number, no timestamp.
- Notifications are cut from a byte stream: a packet may be split across notifications
  and several packets may share one. The decoder reassembles and resynchronises on
  ``55 61`` (register replies ``55 71`` + 18 bytes are skipped whole).
- Commands ``FF AA <reg> <lo> <hi>``: unlock ``FF AA 69 88 B5`` (valid ~10 s), output rate
  register ``0x03`` (0x06=10 Hz, 0x07=20, 0x08=50, 0x09=100, 0x0B=200), save ``FF AA 00 00 00``.
"""

from __future__ import annotations

import numpy as np

from imu.ble.profiles.base import Decoder, Frame, Profile, Write, samples_array

SERVICE_UUID = "0000ffe5-0000-1000-8000-00805f9a34fb"
NOTIFY_UUID = "0000ffe4-0000-1000-8000-00805f9a34fb"
WRITE_UUID = "0000ffe9-0000-1000-8000-00805f9a34fb"

PACKET_LENGTH = 20
HEADER = 0x55
DATA_FLAG = 0x61
REGISTER_FLAG = 0x71
ACC_G_PER_LSB = 16.0 / 32768.0
GYR_DEG_S_PER_LSB = 2000.0 / 32768.0

UNLOCK = bytes.fromhex("ffaa6988b5")
SAVE = bytes.fromhex("ffaa000000")
RATE_REGISTER = 0x03
RATE_CODES: dict[float, int] = {10.0: 0x06, 20.0: 0x07, 50.0: 0x08, 100.0: 0x09, 200.0: 0x0B}


def command(register: int, value: int) -> bytes:
    """``FF AA <reg> <value u16 LE>``: write ``value`` to a WitMotion register."""
    return bytes((0xFF, 0xAA, register, value & 0xFF, (value >> 8) & 0xFF))


class WitMotionDecoder(Decoder):
    """Reassembles the byte stream into 20-byte ``55 61`` packets; no device clock."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self.n_skipped_bytes = 0
        """Bytes skipped as garbage (no ``55 61``/``55 71`` packet at them) once the stream
        was in step (the first notification may start inside a packet: not counted)."""
        self._in_step = False

    def feed(self, data: bytes, char_uuid: str = NOTIFY_UUID) -> list[Frame]:
        buf = self._buffer
        buf.extend(data)
        packets: list[bytes] = []
        i = 0
        while True:
            start, i = i, buf.find(HEADER, i)
            if i < 0:
                self.n_skipped_bytes += len(buf) - start
                i = len(buf)
                break
            self.n_skipped_bytes += i - start
            if i + 1 >= len(buf):
                break  # a lone 0x55 at the end: wait for the next byte
            flag = buf[i + 1]
            if flag not in (DATA_FLAG, REGISTER_FLAG):
                self.n_skipped_bytes += 1
                i += 1  # garbage: resynchronise on the next 0x55
                continue
            if i + PACKET_LENGTH > len(buf):
                break  # incomplete packet: wait for more bytes
            if flag == DATA_FLAG:
                packets.append(bytes(buf[i : i + PACKET_LENGTH]))
            i += PACKET_LENGTH
            if not self._in_step:  # what came before the first packet is not counted
                self._in_step, self.n_skipped_bytes = True, 0
        del buf[:i]
        if not packets:
            return []
        raw = np.frombuffer(b"".join(p[2:] for p in packets), dtype="<i2").reshape(-1, 9)
        samples = samples_array(
            np.nan, raw[:, 0:3] * ACC_G_PER_LSB, raw[:, 3:6] * GYR_DEG_S_PER_LSB
        )
        return [Frame(samples)]


class WitMotionProfile(Profile):
    """Profile of WitMotion BLE 5.0 IMUs: rate set by register write, no device clock."""

    def configure(self, rate_hz: float) -> list[Write]:
        code = RATE_CODES[self.choose_rate(rate_hz)]
        return [
            Write(WRITE_UUID, UNLOCK, response=False, what="unlock configuration"),
            Write(
                WRITE_UUID,
                command(RATE_REGISTER, code),
                response=False,
                what=f"set output rate {rate_hz:g} Hz",
            ),
            Write(WRITE_UUID, SAVE, response=False, what="save configuration"),
        ]

    def new_decoder(self, rate_hz: float) -> Decoder:
        return WitMotionDecoder()


WITMOTION = WitMotionProfile(
    name="witmotion",
    title="WitMotion BWT901BLE / WT901BLECL / WT9011DCL",
    service_uuids=(SERVICE_UUID,),
    name_patterns=(r"^WT9", r"^BWT9", r"witmotion"),
    notify_uuids=(NOTIFY_UUID,),
    write_uuid=WRITE_UUID,
    has_gyro=True,
    default_rate_hz=100.0,
    supported_rates_hz=tuple(RATE_CODES),
    device_clock=False,
    caveats=(
        "No device clock and no sequence numbers: sample times come from arrival times "
        "smoothed to the nominal rate, and a lost notification is only seen as a time gap. "
        "The rate setting is saved in the sensor."
    ),
)
