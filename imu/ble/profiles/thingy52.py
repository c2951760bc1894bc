"""Nordic Thingy:52 motion service, raw data characteristic.

Facts (source: NordicSemiconductor/Nordic-Thingy52-FW, ``source/modules/m_motion.c``
and ``include/ble_services/ble_tms.h``):

- Base UUID ``EF68xxxx-9B35-4933-9B10-52FFA9740042``; motion service ``0x0400``, config
  ``0x0401`` (read/write), raw data ``0x0406`` (notify).
- Raw data notification, 18 bytes ``<9h``: accelerometer, gyroscope, compass. The
  firmware takes the motion driver's 16Q16 fixed-point values and shifts them right by
  6 (acc), 11 (gyro) and 12 (compass) bits, so acc = raw/1024 g (Q10, clipped to
  [-32, 31] g), gyro = raw/32 deg/s (Q5, clipped to [-1024, 1023] deg/s) and compass =
  raw/16 uT (unused here).
- Config, packed ``<HHHHB``: pedometer interval ms and temperature interval ms (each
  100-5000), compass interval ms (100-1000: the firmware's compass maximum is 1000),
  motion processing frequency Hz (1-200), wake on motion (0/1). The firmware stores it
  in flash and applies it at once; imu writes 1000 ms for the three intervals, valid for
  all of them.
- No timestamp and no sequence number: one sample per notification.
"""

from __future__ import annotations

import struct

import numpy as np

from imu.ble.profiles.base import DecodeError, Decoder, Frame, Profile, Write, samples_array

SERVICE_UUID = "ef680400-9b35-4933-9b10-52ffa9740042"
CONFIG_UUID = "ef680401-9b35-4933-9b10-52ffa9740042"
RAW_UUID = "ef680406-9b35-4933-9b10-52ffa9740042"

RAW_FORMAT = struct.Struct("<9h")
ACC_G_PER_LSB = 1.0 / 1024.0
GYR_DEG_S_PER_LSB = 1.0 / 32.0
CONFIG_FORMAT = struct.Struct("<HHHHB")
OTHER_INTERVALS_MS = 1000  # pedometer, temperature, compass: unused, slowest sensible
WAKE_ON_MOTION = 1  # firmware default


def config_bytes(rate_hz: int) -> bytes:
    """The config characteristic value that sets the motion processing rate."""
    return CONFIG_FORMAT.pack(
        OTHER_INTERVALS_MS, OTHER_INTERVALS_MS, OTHER_INTERVALS_MS, rate_hz, WAKE_ON_MOTION
    )


class ThingyDecoder(Decoder):
    """One 18-byte raw-data notification -> one sample (no device clock)."""

    def feed(self, data: bytes, char_uuid: str = RAW_UUID) -> list[Frame]:
        if len(data) != RAW_FORMAT.size:
            raise DecodeError(f"Thingy:52 raw data notification has {len(data)} bytes, expected 18")
        raw = np.array(RAW_FORMAT.unpack(bytes(data)), dtype=np.float64)
        return [
            Frame(samples_array(np.nan, raw[0:3] * ACC_G_PER_LSB, raw[3:6] * GYR_DEG_S_PER_LSB))
        ]


class ThingyProfile(Profile):
    """Thingy:52: rate set through the motion config characteristic."""

    def configure(self, rate_hz: float) -> list[Write]:
        rate = int(self.choose_rate(rate_hz))
        return [
            Write(CONFIG_UUID, config_bytes(rate), response=True, what=f"motion rate {rate} Hz")
        ]

    def new_decoder(self, rate_hz: float) -> Decoder:
        return ThingyDecoder()


THINGY52 = ThingyProfile(
    name="thingy52",
    title="Nordic Thingy:52",
    service_uuids=(SERVICE_UUID,),
    name_patterns=(r"^Thingy",),
    notify_uuids=(RAW_UUID,),
    write_uuid=CONFIG_UUID,
    has_gyro=True,
    default_rate_hz=50.0,
    supported_rates_hz=(10.0, 20.0, 50.0, 100.0),
    device_clock=False,
    caveats=(
        "One sample per notification and no device clock: above ~50 Hz the link must "
        "deliver one notification per sample, which many hosts cannot (use 50 Hz). "
        "Gyro clips at about +-1000 deg/s. The rate setting is saved in the sensor."
    ),
)
