"""Find BLE IMUs nearby and recognise which device profile each one is.

Wraps bleak's scanner behind two functions (:func:`scan`, :func:`find`) that return
plain :class:`FoundDevice` records, and :func:`select_device`, the rule ``imu live``
uses to pick a device when the user did not name one.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from imu.ble.profiles import PROFILES, Profile, recognise
from imu.errors import DeviceError

_ADDRESS_RE = re.compile(r"^([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}$|^[0-9A-Fa-f-]{36}$")


@dataclass(frozen=True)
class FoundDevice:
    """One advertiser seen in a scan.

    ``address``: BLE address (a UUID on macOS); ``rssi_dbm``: strongest signal seen;
    ``profile``: the recognised device profile, None for devices we cannot drive.
    """

    address: str
    name: str | None
    rssi_dbm: int
    service_uuids: tuple[str, ...]
    profile: Profile | None

    def describe(self) -> str:
        """``ADDRESS  NAME  (profile, RSSI -60 dBm)`` for lists and prompts."""
        profile = self.profile.name if self.profile else "unknown"
        return f"{self.address}  {self.name or '(no name)'}  ({profile}, RSSI {self.rssi_dbm} dBm)"


def is_address(text: str) -> bool:
    """True for a MAC address ``AA:BB:..`` or a CoreBluetooth UUID."""
    return bool(_ADDRESS_RE.match(text))


def _found(address: str, name: str | None, rssi: int, uuids: list[str]) -> FoundDevice:
    return FoundDevice(
        address=address,
        name=name,
        rssi_dbm=int(rssi),
        service_uuids=tuple(uuids),
        profile=recognise(name, uuids),
    )


async def scan(timeout_s: float = 5.0) -> list[FoundDevice]:
    """Every advertiser seen within ``timeout_s``: recognised ones first, then by signal."""
    from bleak import BleakScanner

    seen = await BleakScanner.discover(timeout=timeout_s, return_adv=True)
    found = [
        _found(device.address, adv.local_name or device.name, adv.rssi, adv.service_uuids)
        for device, adv in seen.values()
    ]
    return sorted(found, key=lambda f: (f.profile is None, -f.rssi_dbm, f.address))


def matches(found: FoundDevice, wanted: str) -> bool:
    """True if ``wanted`` is this device's address or (case-insensitively) its name."""
    if is_address(wanted):
        return found.address.lower() == wanted.lower()
    return (found.name or "").lower() == wanted.lower()


async def find(wanted: str, timeout_s: float = 10.0) -> FoundDevice | None:
    """Scan until a device whose address or name is ``wanted`` advertises (or time out)."""
    from bleak import BleakScanner

    result: list[FoundDevice] = []

    def check(device, adv) -> bool:
        candidate = _found(
            device.address, adv.local_name or device.name, adv.rssi, adv.service_uuids
        )
        if matches(candidate, wanted):
            result.append(candidate)
            return True
        return False

    await BleakScanner.find_device_by_filter(check, timeout=timeout_s)
    return result[0] if result else None


@contextlib.contextmanager
def bluetooth_errors() -> Iterator[None]:
    """Turn "no Bluetooth here" failures of bleak/D-Bus into one DeviceError line."""
    from bleak.exc import BleakError

    try:
        yield
    except (BleakError, OSError, EOFError) as exc:
        reason = str(exc) or type(exc).__name__
        raise DeviceError(
            f"Bluetooth is not available ({reason}); is the adapter on and, on Linux, "
            "bluetoothd running ('systemctl status bluetooth', 'rfkill list')?"
        ) from None


def profile_by_name(name: str) -> Profile:
    """The profile called ``name`` (``--profile``); DeviceError listing the choices."""
    try:
        return PROFILES[name]
    except KeyError:
        raise DeviceError(
            f"unknown device profile '{name}' (choose one of: {', '.join(sorted(PROFILES))})"
        ) from None


def select_device(
    found: list[FoundDevice],
    timeout_s: float,
    ask: Callable[[list[FoundDevice]], FoundDevice] | None = None,
) -> FoundDevice:
    """Pick the device to use when none was named.

    The single recognised device is used; with several, ``ask`` (an interactive prompt)
    chooses, and without a prompt the user gets a DeviceError listing them.
    """
    recognised = [f for f in found if f.profile is not None]
    if len(recognised) == 1:
        return recognised[0]
    if not recognised:
        raise DeviceError(
            f"no supported IMU advertised within {timeout_s:g} s (is it switched on, charged, "
            "and not connected to a phone app? 'imu scan --all' lists every device seen)"
        )
    if ask is None:
        listing = "; ".join(f.describe() for f in recognised)
        raise DeviceError(
            f"{len(recognised)} IMUs found, choose one with --device ADDRESS: {listing}"
        )
    return ask(recognised)
