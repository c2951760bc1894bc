"""A fake ``org.bluez`` service (dbus-fast) good enough for unmodified bleak.

Objects, as BlueZ exports them::

    /                                   org.freedesktop.DBus.ObjectManager (dbus-fast built-in)
    /org/bluez/hci0                     org.bluez.Adapter1
    /org/bluez/hci0/dev_AA_BB_..        org.bluez.Device1
    .../serviceXXXX                     org.bluez.GattService1        (exported on Connect)
    .../serviceXXXX/charYYYY            org.bluez.GattCharacteristic1
    .../serviceXXXX/charYYYY/descZZZZ   org.bluez.GattDescriptor1     (the CCCD)

Everything here runs on the fake's own event loop (see :mod:`tests.fakebluez.fake`).
This module deliberately has no ``from __future__ import annotations``: dbus-fast reads
the D-Bus signatures from the annotations ("s", "ay", ...).
"""

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from dbus_fast import DBusError, Variant
from dbus_fast.aio import MessageBus
from dbus_fast.service import PropertyAccess, ServiceInterface, dbus_property, method

ADAPTER_PATH = "/org/bluez/hci0"
CCCD_UUID = "00002902-0000-1000-8000-00805f9b34fb"
READ = PropertyAccess.READ


@dataclass(frozen=True)
class CharSpec:
    """One GATT characteristic: UUID and BlueZ flags (``notify``, ``write``, ...)."""

    uuid: str
    flags: tuple[str, ...]


@dataclass
class DeviceSpec:
    """What a fake peripheral advertises and serves.

    ``on_write(device, char_uuid, data)`` lets a device answer commands (e.g. Polar's
    control point replies with a notification); it runs on the fake's loop.
    ``needs_start``: the sensor streams only after a command set ``device.started``
    (reset when the link drops), as Polar and Movesense do.
    """

    address: str
    local_name: str
    services: dict[str, list[CharSpec]]
    advertised_uuids: list[str] = field(default_factory=list)
    rssi: int = -60
    manufacturer_data: dict[int, bytes] = field(default_factory=dict)
    on_write: Callable[["FakeDevice", str, bytes], None] | None = None
    needs_start: bool = False


class Adapter(ServiceInterface):
    def __init__(self, fake: "FakeBluezService") -> None:
        super().__init__("org.bluez.Adapter1")
        self._fake = fake
        self._discovering = False

    @method()
    def SetDiscoveryFilter(self, properties: "a{sv}"):
        self._fake.discovery_filters.append(properties)

    @method()
    def StartDiscovery(self):
        self._set_discovering(True)

    @method()
    def StopDiscovery(self):
        self._set_discovering(False)

    def _set_discovering(self, value: bool) -> None:
        self._discovering = value
        self.emit_properties_changed({"Discovering": value})

    @property
    def discovering(self) -> bool:
        return self._discovering

    @dbus_property(access=READ)
    def Address(self) -> "s":  # noqa: F821
        return "00:1A:7D:DA:71:13"

    @dbus_property(access=READ)
    def Alias(self) -> "s":  # noqa: F821
        return "fakebluez"

    @dbus_property(access=READ)
    def Powered(self) -> "b":  # noqa: F821
        return True

    @dbus_property(access=READ)
    def Discovering(self) -> "b":  # noqa: F821
        return self._discovering

    @dbus_property(access=READ)
    def Roles(self) -> "as":
        return ["central", "peripheral"]


class Descriptor(ServiceInterface):
    def __init__(self, char_path: str) -> None:
        super().__init__("org.bluez.GattDescriptor1")
        self._char_path = char_path

    @dbus_property(access=READ)
    def UUID(self) -> "s":  # noqa: F821
        return CCCD_UUID

    @dbus_property(access=READ)
    def Characteristic(self) -> "o":  # noqa: F821
        return self._char_path

    @dbus_property(access=READ)
    def Value(self) -> "ay":  # noqa: F821
        return b"\x00\x00"


class Characteristic(ServiceInterface):
    def __init__(self, device: "FakeDevice", spec: CharSpec, service_path: str) -> None:
        super().__init__("org.bluez.GattCharacteristic1")
        self._device = device
        self._spec = spec
        self._service_path = service_path
        self._value = b""
        self.notifying = False

    @method()
    def ReadValue(self, options: "a{sv}") -> "ay":  # noqa: F821
        return self._value

    @method()
    def WriteValue(self, value: "ay", options: "a{sv}"):  # noqa: F821
        self._device.record_write(self._spec.uuid, bytes(value))

    @method()
    def StartNotify(self):
        self.notifying = True
        self.emit_properties_changed({"Notifying": True})

    @method()
    def StopNotify(self):
        self.notifying = False
        self.emit_properties_changed({"Notifying": False})

    def notify(self, payload: bytes) -> None:
        self._value = payload
        self.emit_properties_changed({"Value": payload})

    @dbus_property(access=READ)
    def UUID(self) -> "s":  # noqa: F821
        return self._spec.uuid

    @dbus_property(access=READ)
    def Service(self) -> "o":  # noqa: F821
        return self._service_path

    @dbus_property(access=READ)
    def Flags(self) -> "as":
        return list(self._spec.flags)

    @dbus_property(access=READ)
    def Value(self) -> "ay":  # noqa: F821
        return self._value

    @dbus_property(access=READ)
    def Notifying(self) -> "b":  # noqa: F821
        return self.notifying

    @dbus_property(access=READ)
    def MTU(self) -> "q":  # noqa: F821
        return 247


class Service(ServiceInterface):
    def __init__(self, uuid: str, device_path: str) -> None:
        super().__init__("org.bluez.GattService1")
        self._uuid = uuid
        self._device_path = device_path

    @dbus_property(access=READ)
    def UUID(self) -> "s":  # noqa: F821
        return self._uuid

    @dbus_property(access=READ)
    def Device(self) -> "o":  # noqa: F821
        return self._device_path

    @dbus_property(access=READ)
    def Primary(self) -> "b":  # noqa: F821
        return True


class Device(ServiceInterface):
    def __init__(self, device: "FakeDevice") -> None:
        super().__init__("org.bluez.Device1")
        self._device = device

    @method()
    async def Connect(self):
        await self._device.connect()

    @method()
    async def Disconnect(self):
        await self._device.disconnect()

    @dbus_property(access=READ)
    def Address(self) -> "s":  # noqa: F821
        return self._device.spec.address

    @dbus_property(access=READ)
    def AddressType(self) -> "s":  # noqa: F821
        return "public"

    @dbus_property(access=READ)
    def Name(self) -> "s":  # noqa: F821
        return self._device.spec.local_name

    @dbus_property(access=READ)
    def Alias(self) -> "s":  # noqa: F821
        return self._device.spec.local_name

    @dbus_property(access=READ)
    def Adapter(self) -> "o":  # noqa: F821
        return ADAPTER_PATH

    @dbus_property(access=READ)
    def Connected(self) -> "b":  # noqa: F821
        return self._device.connected

    @dbus_property(access=READ)
    def ServicesResolved(self) -> "b":  # noqa: F821
        return self._device.services_resolved

    @dbus_property(access=READ)
    def Paired(self) -> "b":  # noqa: F821
        return False

    @dbus_property(access=READ)
    def Trusted(self) -> "b":  # noqa: F821
        return False

    @dbus_property(access=READ)
    def RSSI(self) -> "n":  # noqa: F821
        return self._device.rssi

    @dbus_property(access=READ)
    def UUIDs(self) -> "as":
        return list(self._device.spec.advertised_uuids)

    @dbus_property(access=READ)
    def ManufacturerData(self) -> "a{qv}":
        return {k: Variant("ay", v) for k, v in self._device.spec.manufacturer_data.items()}


class FakeDevice:
    """State of one peripheral: link, GATT objects, writes received, notifications sent."""

    def __init__(self, service: "FakeBluezService", spec: DeviceSpec) -> None:
        self.service = service
        self.spec = spec
        self.path = f"{ADAPTER_PATH}/dev_{spec.address.upper().replace(':', '_')}"
        self.connected = False
        self.services_resolved = False
        self.rssi = spec.rssi
        self.writes: list[tuple[str, bytes]] = []
        self.connect_calls = 0
        self.refuse_next_connects = 0
        self.link_up = asyncio.Event()
        self.started = False
        self._iface = Device(self)
        self._gatt: list[tuple[str, ServiceInterface]] = []
        self.chars: dict[str, Characteristic] = {}

    @property
    def bus(self) -> MessageBus:
        return self.service.bus

    def export(self) -> None:
        self.bus.export(self.path, self._iface)

    def unexport(self) -> None:
        self._remove_gatt()
        self.bus.unexport(self.path)

    def record_write(self, char_uuid: str, data: bytes) -> None:
        self.writes.append((char_uuid, data))
        if self.spec.on_write is not None:
            self.spec.on_write(self, char_uuid, data)

    def notifying(self, char_uuid: str) -> bool:
        """True when a notification on ``char_uuid`` reaches a subscribed central."""
        char = self.chars.get(char_uuid)
        return self.connected and char is not None and char.notifying

    def streaming(self, char_uuid: str) -> bool:
        """True when the sensor sends data on ``char_uuid`` (subscribed and started)."""
        return self.notifying(char_uuid) and (self.started or not self.spec.needs_start)

    def notify(self, char_uuid: str, payload: bytes) -> bool:
        """Send one notification if the central is subscribed; False if it went nowhere."""
        if not self.notifying(char_uuid):
            return False
        self.chars[char_uuid].notify(payload)
        return True

    async def connect(self) -> None:
        self.connect_calls += 1
        if self.refuse_next_connects > 0:
            self.refuse_next_connects -= 1
            raise DBusError("org.bluez.Error.Failed", "Software caused connection abort")
        if self.connected:
            return
        self.connected = True
        self._iface.emit_properties_changed({"Connected": True})
        self._export_gatt()
        await asyncio.sleep(0.01)  # services resolve after the link is up, as in BlueZ
        self.services_resolved = True
        self._iface.emit_properties_changed({"ServicesResolved": True})
        self.link_up.set()

    async def disconnect(self) -> None:
        self.drop_link()

    def drop_link(self) -> None:
        """Link lost (or orderly disconnect): notifications stop, GATT objects go away."""
        if not self.connected:
            return
        self.link_up.clear()
        self.started = False
        self.services_resolved = False
        self._iface.emit_properties_changed({"ServicesResolved": False})
        self.connected = False
        self._iface.emit_properties_changed({"Connected": False})
        self._remove_gatt()

    def _export_gatt(self) -> None:
        handle = 0x000A
        for service_uuid, chars in self.spec.services.items():
            service_path = f"{self.path}/service{handle:04x}"
            self._gatt.append((service_path, Service(service_uuid, self.path)))
            handle += 1
            for char_spec in chars:
                char_path = f"{service_path}/char{handle:04x}"
                char = Characteristic(self, char_spec, service_path)
                self.chars[char_spec.uuid] = char
                self._gatt.append((char_path, char))
                handle += 1
                if "notify" in char_spec.flags:
                    self._gatt.append((f"{char_path}/desc{handle:04x}", Descriptor(char_path)))
                    handle += 1
        for path, iface in self._gatt:
            self.bus.export(path, iface)

    def _remove_gatt(self) -> None:
        for path, _ in reversed(self._gatt):
            self.bus.unexport(path)
        self._gatt.clear()
        self.chars.clear()

    def advertise(self) -> None:
        """One advertisement as BlueZ reports it: an RSSI property change."""
        self.rssi = self.spec.rssi + random.randint(-3, 3)
        self._iface.emit_properties_changed({"RSSI": self.rssi})


class FakeBluezService:
    """The ``org.bluez`` name on a bus: an adapter and its devices."""

    def __init__(self, bus: MessageBus) -> None:
        self.bus = bus
        self.adapter = Adapter(self)
        self.devices: dict[str, FakeDevice] = {}
        self.discovery_filters: list[dict] = []
        self._advertiser: asyncio.Task | None = None

    async def start(self) -> None:
        self.bus.export(ADAPTER_PATH, self.adapter)
        await self.bus.request_name("org.bluez")
        self._advertiser = asyncio.create_task(self._advertise_loop())

    async def stop(self) -> None:
        if self._advertiser is not None:
            self._advertiser.cancel()

    def add_device(self, spec: DeviceSpec) -> FakeDevice:
        device = FakeDevice(self, spec)
        self.devices[spec.address.upper()] = device
        device.export()
        return device

    async def _advertise_loop(self) -> None:
        """While discovering, every unconnected device advertises every 50 ms."""
        while True:
            await asyncio.sleep(0.05)
            if self.adapter.discovering:
                for device in list(self.devices.values()):
                    if not device.connected:
                        device.advertise()
