"""The device-profile interface: what a live BLE source needs to know about one IMU.

A :class:`Profile` is plain, immutable knowledge about one kind of device: how to
recognise it in a scan, which characteristics to subscribe to, which bytes configure,
start and stop it, and how to decode its notifications. It never touches a radio: the
connection layer (``imu.ble.live``) does the I/O and drives a profile like this::

    profile = recognise(name, advertised_service_uuids)     # or PROFILES["witmotion"]
    rate_hz = profile.choose_rate(requested_hz)               # DeviceError if impossible
    for write in profile.configure(rate_hz):
        await send(write)
    replies = [await send(write) for write in profile.prepare(rate_hz)]
    for write in profile.start(rate_hz, replies):              # may depend on the replies
        await send(write)
    # send(write): write it; when write.reply_uuid is set, wait for the reply notification
    # on that characteristic, pass it to profile.check_reply(write, reply), return it
    decoder = profile.new_decoder(rate_hz)
    # every notification of every profile.notify_uuids, in arrival order:
    frames = decoder.feed(data, char_uuid)                    # list[Frame], maybe empty
    ...
    for write in profile.stop(): ...

Replies to control writes are also notifications: feed them to the decoder too (the
Polar decoder reads the gyroscope scale factor from the start reply).

A :class:`Frame` holds samples in canonical units (``(n, 7)`` float64
``[t, acc_x, acc_y, acc_z, gyr_x, gyr_y, gyr_z]``, m/s^2 with gravity, deg/s, sensor
frame). ``t`` is the device's own clock in seconds when the profile has one
(``device_clock``), else NaN; :class:`imu.ble.timing.Timestamper` maps frames to host
time and detects gaps.

Decoders raise only :class:`DecodeError` (a malformed notification: the live layer logs
it, counts it and carries on). Control-point refusals raise
:class:`imu.errors.DeviceError` with a message the user can act on.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from imu.errors import DeviceError
from imu.units import STANDARD_GRAVITY_M_S2 as STANDARD_GRAVITY

"""m/s^2 per g (ISO 80000-3); every decoder converts g to m/s^2 with it."""

N_COLUMNS = 7
"""Columns of a sample row: ``t, acc_x, acc_y, acc_z, gyr_x, gyr_y, gyr_z``."""


class DecodeError(ValueError):
    """A notification that cannot be decoded. The only exception a decoder raises."""


@dataclass(frozen=True)
class Write:
    """One GATT write.

    ``reply_uuid``: when set, the device answers on that characteristic (a notification)
    and the connection layer should pass the reply to :meth:`Profile.check_reply`.
    ``what`` is a short human description for logs (``"set output rate 100 Hz"``).
    """

    char_uuid: str
    data: bytes
    response: bool = True
    reply_uuid: str | None = None
    what: str = ""


@dataclass(frozen=True, eq=False)
class Frame:
    """Samples decoded from one or more notifications.

    ``samples``: ``(n, 7)`` float64 ``[t, acc_x..z (m/s^2), gyr_x..z (deg/s)]``; ``t`` in
    seconds of the device clock (any origin, but continuous within a connection) or NaN
    when the device has no clock; gyroscope columns NaN on accelerometer-only devices.
    ``sequence``: the device's packet sequence number, if its protocol has one.
    ``lost_before``: samples known lost immediately before this frame (from sequence
    numbers); 0 when nothing is known to be lost.
    """

    samples: np.ndarray
    sequence: int | None = None
    lost_before: int = 0

    def __post_init__(self) -> None:
        if self.samples.ndim != 2 or self.samples.shape[1] != N_COLUMNS:
            raise ValueError(f"samples must be (n, {N_COLUMNS}), got {self.samples.shape}")


class Decoder:
    """Stateful decoder of one connection's notifications (reassembly, deltas, sequence).

    Create one per connection with :meth:`Profile.new_decoder`. :meth:`feed` is called
    with each notification in arrival order and returns the frames it completes.
    """

    n_skipped_bytes: int = 0
    """Bytes skipped as no packet so far (a decoder that resynchronises counts them)."""

    def feed(self, data: bytes, char_uuid: str = "") -> list[Frame]:
        """Decode one notification received on ``char_uuid``; raise only DecodeError."""
        raise NotImplementedError


def normalise_uuid(uuid: str) -> str:
    """Lower-case 128-bit UUID string; 16-bit shorthand expands on the Bluetooth base.

    (WitMotion's UUIDs end in ``...9a34fb``, not the Bluetooth base ``...9b34fb``: their
    shorthand ``ffe5`` is a different UUID; profiles always list full UUIDs.)
    """
    u = uuid.strip().lower()
    if re.fullmatch(r"(0x)?[0-9a-f]{4}", u):
        return f"0000{u[-4:]}-0000-1000-8000-00805f9b34fb"
    return u


@dataclass(frozen=True)
class Profile:
    """Static knowledge about one kind of BLE IMU.

    ``name``: registry key (``witmotion``, ``polar-verity``, ``polar-h10``, ``thingy52``,
    ``movesense``, ``openimu``); ``title``: what users call the device.
    ``service_uuids``: services that identify it in advertisements or after connecting.
    ``name_patterns``: regular expressions (case-insensitive ``re.search``) on the
    advertised name. ``notify_uuids``: characteristics to subscribe to (data and control
    replies). ``write_uuid``: the command characteristic (None if none).
    ``has_gyro``: False for accelerometer-only devices (gyro columns are NaN).
    ``default_rate_hz`` / ``supported_rates_hz``: output rates the profile can set.
    ``device_clock``: frames carry device timestamps (``t`` column not NaN).
    ``caveats``: one paragraph for users: what is unavailable or unreliable.
    """

    name: str
    title: str
    service_uuids: tuple[str, ...]
    name_patterns: tuple[str, ...]
    notify_uuids: tuple[str, ...]
    write_uuid: str | None
    has_gyro: bool
    default_rate_hz: float
    supported_rates_hz: tuple[float, ...]
    device_clock: bool
    caveats: str = ""
    _name_res: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "_name_res", tuple(re.compile(p, re.IGNORECASE) for p in self.name_patterns)
        )

    def name_matches(self, name: str | None) -> bool:
        """True if the advertised ``name`` matches one of ``name_patterns``."""
        return bool(name) and any(r.search(name) for r in self._name_res)

    def service_matches(self, service_uuids: Iterable[str]) -> bool:
        """True if one of the advertised ``service_uuids`` is one of this profile's."""
        ours = {normalise_uuid(u) for u in self.service_uuids}
        return any(normalise_uuid(u) in ours for u in service_uuids)

    def matches(self, name: str | None, service_uuids: Iterable[str] = ()) -> bool:
        """True if the advertisement (name or services) looks like this device."""
        return self.name_matches(name) or self.service_matches(service_uuids)

    def choose_rate(self, rate_hz: float | None = None) -> float:
        """The supported rate to use for a request (None = default).

        Raises DeviceError naming the supported rates if ``rate_hz`` is not one of them.
        """
        if rate_hz is None:
            return self.default_rate_hz
        for r in self.supported_rates_hz:
            if abs(r - rate_hz) < 1e-6 * max(1.0, r):
                return r
        rates = ", ".join(f"{r:g}" for r in self.supported_rates_hz)
        raise DeviceError(
            f"{self.title} cannot stream at {rate_hz:g} Hz (choose one of: {rates} Hz)"
        )

    def configure(self, rate_hz: float) -> list[Write]:
        """Writes that set the output rate (and ranges) before streaming; may be empty."""
        return []

    def prepare(self, rate_hz: float) -> list[Write]:
        """Writes sent after :meth:`configure` whose replies (each has ``reply_uuid``)
        tell what the device offers; the replies go to :meth:`start`. May be empty."""
        return []

    def start(self, rate_hz: float, replies: Sequence[bytes] = ()) -> list[Write]:
        """Writes that start streaming at ``rate_hz`` (after subscribing); may be empty.

        ``replies``: the replies to :meth:`prepare`'s writes, in order (empty when it has
        none, or when a caller wants the profile's documented defaults)."""
        return []

    def stop(self) -> list[Write]:
        """Writes that stop streaming (before disconnecting); may be empty."""
        return []

    def check_reply(self, write: Write, reply: bytes) -> None:
        """Raise DeviceError if ``reply`` (to ``write``) reports a failure."""

    def new_decoder(self, rate_hz: float) -> Decoder:
        """A fresh decoder for one connection streaming at ``rate_hz``."""
        raise NotImplementedError


def samples_array(
    t: np.ndarray | float, acc_g: np.ndarray, gyr_deg_s: np.ndarray | None
) -> np.ndarray:
    """Build a ``(n, 7)`` sample array from acc in g (``(n, 3)``) and gyro in deg/s.

    ``t`` broadcast to the first column (NaN for devices without a clock); ``gyr_deg_s``
    None fills the gyro columns with NaN.
    """
    acc = np.asarray(acc_g, dtype=np.float64).reshape(-1, 3)
    out = np.full((acc.shape[0], N_COLUMNS), np.nan)
    out[:, 0] = t
    out[:, 1:4] = acc * STANDARD_GRAVITY
    if gyr_deg_s is not None:
        out[:, 4:7] = np.asarray(gyr_deg_s, dtype=np.float64).reshape(-1, 3)
    return out
