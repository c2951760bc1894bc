"""Device profiles: pure knowledge of each supported BLE IMU (no radio I/O here).

``PROFILES`` maps a profile name to its :class:`~imu.ble.profiles.base.Profile`;
:func:`recognise` picks the profile of an advertisement. The interface is documented in
:mod:`imu.ble.profiles.base`; per-device facts and caveats in ``docs/devices.md``.
"""

from __future__ import annotations

from collections.abc import Iterable

from imu.ble.profiles.base import (
    STANDARD_GRAVITY,
    DecodeError,
    Decoder,
    Frame,
    Profile,
    Write,
)
from imu.ble.profiles.movesense import MOVESENSE
from imu.ble.profiles.openimu import OPENIMU
from imu.ble.profiles.polar import POLAR_H10, POLAR_VERITY
from imu.ble.profiles.thingy52 import THINGY52
from imu.ble.profiles.witmotion import WITMOTION

PROFILES: dict[str, Profile] = {
    p.name: p for p in (WITMOTION, POLAR_VERITY, POLAR_H10, THINGY52, MOVESENSE, OPENIMU)
}


def recognise(name: str | None, service_uuids: Iterable[str] = ()) -> Profile | None:
    """The profile an advertisement (local name, service UUIDs) belongs to, or None.

    A profile matching both name and services wins over one matching the name only,
    which wins over a service-only match (Polar Verity Sense and H10 share one service
    and differ by name).
    """
    uuids = list(service_uuids)
    best: tuple[int, Profile] | None = None
    for profile in PROFILES.values():
        score = 2 * profile.name_matches(name) + profile.service_matches(uuids)
        if score and (best is None or score > best[0]):
            best = (score, profile)
    return None if best is None else best[1]


__all__ = [
    "PROFILES",
    "STANDARD_GRAVITY",
    "DecodeError",
    "Decoder",
    "Frame",
    "Profile",
    "Write",
    "recognise",
]
