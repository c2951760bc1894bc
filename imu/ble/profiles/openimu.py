"""OpenIMU: this project's own open BLE profile for DIY boards, as a device profile.

The packet and configuration layouts live in :mod:`imu.ble.openimu_codec` (the one place
that encodes and decodes them); this module only adapts the codec to the profile
interface: it writes the configuration characteristic to start and stop streaming,
turns packets into canonical samples on the device clock, and counts lost samples from
the sequence numbers.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from imu.ble import openimu_codec as codec
from imu.ble.profiles.base import N_COLUMNS, DecodeError, Decoder, Frame, Profile, Write

US_PER_S = 1e6
U32_WRAP = 1 << 32
ACC_RANGE_CODE = 2  # +-8 g: a hard pull stays far below, a dropped bar rarely exceeds it
GYR_RANGE_CODE = 3  # +-1000 deg/s: trunk rates in lifting stay below ~300 deg/s
MAX_LATENCY_MS = 40


class OpenImuDecoder(Decoder):
    """One notification = one packet; device time in s, lost samples from sequence numbers.

    ``t`` is the device clock (``device_time_us``, unwrapped across its 71.6-min roll-over)
    plus each sample's nominal offset. ``lost_before`` counts samples the sequence numbers
    show missing since the previous packet; a device-side overrun (flag bit 0) that the
    sequence cannot count is reported as at least 1.
    """

    def __init__(self) -> None:
        self._previous: codec.Packet | None = None
        self._wraps = 0

    def feed(self, data: bytes, char_uuid: str = codec.DATA_UUID) -> list[Frame]:
        try:
            packet = codec.decode_packet(data)
        except codec.OpenImuError as exc:
            raise DecodeError(f"OpenIMU packet: {exc}") from None
        lost = 0
        previous = self._previous
        if previous is not None:
            lost = codec.lost_samples(previous, packet)
            if packet.device_time_us < previous.device_time_us:
                self._wraps += 1
        if packet.device_overrun:
            lost = max(lost, 1)
        self._previous = packet
        t0 = (packet.device_time_us + self._wraps * U32_WRAP) / US_PER_S
        samples = np.empty((packet.count, N_COLUMNS))
        samples[:, 0] = t0 + packet.offsets_s
        samples[:, 1:4] = packet.acc_m_s2
        samples[:, 4:7] = packet.gyr_deg_s
        return [Frame(samples, sequence=packet.sequence, lost_before=lost)]


class OpenImuProfile(Profile):
    """OpenIMU boards: streaming is started and stopped through the config characteristic."""

    def _config(self, start: bool, rate_hz: float) -> Write:
        config = codec.Config(
            start=start,
            sampling_rate_hz=rate_hz,
            acc_range_code=ACC_RANGE_CODE,
            gyr_range_code=GYR_RANGE_CODE,
            max_latency_ms=MAX_LATENCY_MS,
        )
        what = f"start streaming at {rate_hz:g} Hz" if start else "stop streaming"
        return Write(codec.CONFIG_UUID, codec.encode_config(config), True, what=what)

    def start(self, rate_hz: float, replies: Sequence[bytes] = ()) -> list[Write]:
        return [self._config(True, self.choose_rate(rate_hz))]

    def stop(self) -> list[Write]:
        return [self._config(False, self.default_rate_hz)]

    def new_decoder(self, rate_hz: float) -> Decoder:
        return OpenImuDecoder()


OPENIMU = OpenImuProfile(
    name="openimu",
    title="OpenIMU (this project's open DIY profile)",
    service_uuids=(codec.SERVICE_UUID,),
    name_patterns=(r"^OpenIMU",),
    notify_uuids=(codec.DATA_UUID,),
    write_uuid=codec.CONFIG_UUID,
    has_gyro=True,
    default_rate_hz=104.0,
    supported_rates_hz=(52.0, 104.0, 208.0, 416.0),
    device_clock=True,
    caveats=(
        "Every packet carries a sequence number and a microsecond device timestamp, so "
        "lost notifications are counted exactly and sample times do not depend on radio "
        "timing. The board reports the rate it actually uses in every packet."
    ),
)
