"""The ONVIF device service (ver10, tds): who the camera is and which services it offers.

Each operation is a function of the Device, the request's operation element and the device's
clock, returning the response element as XML (NS prefixes of soap.py).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, datetime
from xml.sax.saxutils import quoteattr

from simulator import __version__
from simulator.onvif.devices import MANUFACTURER, Device
from simulator.onvif.ptz_node import CAPABILITIES as PTZ_CAPABILITIES
from simulator.onvif.ptz_node import TPTZ
from simulator.onvif.pullpoint import MAX_PER_CAMERA
from simulator.onvif.soap import NS, el, sender, text

Operation = Callable[[Device, ET.Element, float], str]


def _datetime(t: float) -> str:
    d = datetime.fromtimestamp(t, UTC)
    return (
        f"<tt:Time>{el('tt:Hour', d.hour)}{el('tt:Minute', d.minute)}"
        f"{el('tt:Second', d.second)}</tt:Time><tt:Date>{el('tt:Year', d.year)}"
        f"{el('tt:Month', d.month)}{el('tt:Day', d.day)}</tt:Date>"
    )


def get_system_date_and_time(dev: Device, op: ET.Element, now: float) -> str:
    stamp = _datetime(now)
    return (
        "<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime>"
        "<tt:DateTimeType>NTP</tt:DateTimeType><tt:DaylightSavings>false</tt:DaylightSavings>"
        "<tt:TimeZone><tt:TZ>UTC0</tt:TZ></tt:TimeZone>"
        f"<tt:UTCDateTime>{stamp}</tt:UTCDateTime><tt:LocalDateTime>{stamp}</tt:LocalDateTime>"
        "</tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>"
    )


CATEGORIES = ("All", "Analytics", "Device", "Events", "Imaging", "Media", "PTZ")


def get_capabilities(dev: Device, op: ET.Element, now: float) -> str:
    asked = {(c.text or "").strip() for c in op} or {"All"}
    if not asked <= set(CATEGORIES):
        raise sender("ter:InvalidArgVal", f"Category must be one of {', '.join(CATEGORIES)}")
    ours = {"Device", "Events", "Media"} | ({"PTZ"} if dev.ptz else set())
    offered = ours if "All" in asked else asked & ours
    if not offered:
        raise sender("ter:ActionNotSupported", f"this camera offers the {', '.join(sorted(ours))} "
                     "categories")  # fmt: skip
    parts = []
    if "Device" in offered:
        parts.append(
            f"<tt:Device>{el('tt:XAddr', dev.device_xaddr)}<tt:System>"
            "<tt:DiscoveryResolve>false</tt:DiscoveryResolve><tt:DiscoveryBye>false"
            "</tt:DiscoveryBye><tt:RemoteDiscovery>false</tt:RemoteDiscovery>"
            "<tt:SystemBackup>false</tt:SystemBackup><tt:SystemLogging>false</tt:SystemLogging>"
            "<tt:FirmwareUpgrade>false</tt:FirmwareUpgrade><tt:SupportedVersions><tt:Major>2"
            "</tt:Major><tt:Minor>60</tt:Minor></tt:SupportedVersions></tt:System></tt:Device>"
        )
    if "Events" in offered:
        parts.append(
            f"<tt:Events>{el('tt:XAddr', dev.events_xaddr)}<tt:WSSubscriptionPolicySupport>false"
            "</tt:WSSubscriptionPolicySupport><tt:WSPullPointSupport>true</tt:WSPullPointSupport>"
            "<tt:WSPausableSubscriptionManagerInterfaceSupport>false"
            "</tt:WSPausableSubscriptionManagerInterfaceSupport></tt:Events>"
        )
    if "Media" in offered:
        parts.append(
            f"<tt:Media>{el('tt:XAddr', dev.media_xaddr)}<tt:StreamingCapabilities>"
            "<tt:RTPMulticast>false</tt:RTPMulticast><tt:RTP_TCP>true</tt:RTP_TCP>"
            "<tt:RTP_RTSP_TCP>true</tt:RTP_RTSP_TCP></tt:StreamingCapabilities></tt:Media>"
        )
    if "PTZ" in offered:
        parts.append(f"<tt:PTZ>{el('tt:XAddr', dev.ptz_xaddr)}</tt:PTZ>")
    return (
        f"<tds:GetCapabilitiesResponse><tds:Capabilities>{''.join(parts)}"
        "</tds:Capabilities></tds:GetCapabilitiesResponse>"
    )


def _service(namespace: str, xaddr: str, capabilities: str | None) -> str:
    caps = f"<tds:Capabilities>{capabilities}</tds:Capabilities>" if capabilities else ""
    return (
        f"<tds:Service>{el('tds:Namespace', namespace)}{el('tds:XAddr', xaddr)}{caps}"
        "<tds:Version><tt:Major>2</tt:Major><tt:Minor>60</tt:Minor></tds:Version></tds:Service>"
    )


DEVICE_CAPABILITIES = (
    '<tds:Capabilities><tds:Network IPFilter="false" ZeroConfiguration="false" '
    'IPVersion6="false" DynDNS="false"/><tds:Security UsernameToken="true" HttpDigest="true"/>'
    '<tds:System DiscoveryResolve="false" DiscoveryBye="false" RemoteDiscovery="false" '
    'SystemBackup="false" SystemLogging="false" FirmwareUpgrade="false"/></tds:Capabilities>'
)


def media_capabilities(dev: Device) -> str:
    """The Media service's capabilities: snapshots, RTP over TCP and RTSP, no multicast, as
    many profiles as the camera has streams."""
    return (
        '<trt:Capabilities SnapshotUri="true" Rotation="false" OSD="false">'
        f'<trt:ProfileCapabilities MaximumNumberOfProfiles="{len(dev.profiles)}"/>'
        '<trt:StreamingCapabilities RTPMulticast="false" RTP_TCP="true" RTP_RTSP_TCP="true"/>'
        "</trt:Capabilities>"
    )


TR2 = "http://www.onvif.org/ver20/media/wsdl"  # Media2: its prefix declared where it is used


def media2_capabilities(dev: Device) -> str:
    """The Media2 service's capabilities: snapshots, RTSP (over TCP too), no multicast, the
    configurations a profile can hold (PTZ on a PTZ camera)."""
    kinds = "VideoSource VideoEncoder" + (" PTZ" if dev.ptz else "")
    return (
        f'<tr2:Capabilities xmlns:tr2="{TR2}" SnapshotUri="true" Rotation="false" '
        'VideoSourceMode="false" OSD="false"><tr2:ProfileCapabilities '
        f'MaximumNumberOfProfiles="{len(dev.profiles)}" ConfigurationsSupported="{kinds}"/>'
        '<tr2:StreamingCapabilities RTSPStreaming="true" RTPMulticast="false" '
        'RTP_RTSP_TCP="true" NonAggregateControl="false"/></tr2:Capabilities>'
    )


def event_capabilities(max_pull_points: int = MAX_PER_CAMERA) -> str:
    """The event service's capabilities: PullPoint subscriptions, at most this many."""
    return (
        '<tev:Capabilities WSSubscriptionPolicySupport="false" WSPullPointSupport="true" '
        'WSPausableSubscriptionManagerInterfaceSupport="false" MaxNotificationProducers="0" '
        f'MaxPullPoints="{max_pull_points}" PersistentNotificationStorage="false"/>'
    )


def get_services(dev: Device, op: ET.Element, now: float) -> str:
    include = text(op, "IncludeCapability")
    if include not in ("true", "false", "1", "0"):
        raise sender("ter:InvalidArgVal", "IncludeCapability must be true or false")
    with_caps = include in ("true", "1")
    ptz = _service(TPTZ, dev.ptz_xaddr, PTZ_CAPABILITIES if with_caps else None) if dev.ptz else ""
    return (
        "<tds:GetServicesResponse>"
        + _service(NS["tds"], dev.device_xaddr, DEVICE_CAPABILITIES if with_caps else None)
        + _service(NS["trt"], dev.media_xaddr, media_capabilities(dev) if with_caps else None)
        + _service(TR2, dev.media2_xaddr, media2_capabilities(dev) if with_caps else None)
        + _service(NS["tev"], dev.events_xaddr, event_capabilities() if with_caps else None)
        + ptz
        + "</tds:GetServicesResponse>"
    )


def get_service_capabilities(dev: Device, op: ET.Element, now: float) -> str:
    caps = DEVICE_CAPABILITIES
    return f"<tds:GetServiceCapabilitiesResponse>{caps}</tds:GetServiceCapabilitiesResponse>"


def get_device_information(dev: Device, op: ET.Element, now: float) -> str:
    return (
        f"<tds:GetDeviceInformationResponse>{el('tds:Manufacturer', MANUFACTURER)}"
        f"{el('tds:Model', dev.group)}{el('tds:FirmwareVersion', __version__)}"
        f"{el('tds:SerialNumber', dev.id)}{el('tds:HardwareId', dev.group)}"
        "</tds:GetDeviceInformationResponse>"
    )


def get_scopes(dev: Device, op: ET.Element, now: float) -> str:
    items = "".join(
        f"<tds:Scopes><tt:ScopeDef>Fixed</tt:ScopeDef>{el('tt:ScopeItem', s)}</tds:Scopes>"
        for s in dev.scopes()
    )
    return f"<tds:GetScopesResponse>{items}</tds:GetScopesResponse>"


def get_hostname(dev: Device, op: ET.Element, now: float) -> str:
    return (
        "<tds:GetHostnameResponse><tds:HostnameInformation><tt:FromDHCP>false</tt:FromDHCP>"
        f"{el('tt:Name', dev.id)}</tds:HostnameInformation></tds:GetHostnameResponse>"
    )


def get_network_interfaces(dev: Device, op: ET.Element, now: float) -> str:
    return (
        f"<tds:GetNetworkInterfacesResponse><tds:NetworkInterfaces token={quoteattr('eth0')}>"
        "<tt:Enabled>true</tt:Enabled><tt:Info><tt:Name>eth0</tt:Name>"
        f"{el('tt:HwAddress', dev.mac)}<tt:MTU>1500</tt:MTU></tt:Info>"
        "<tt:IPv4><tt:Enabled>true</tt:Enabled><tt:Config><tt:Manual>"
        f"{el('tt:Address', dev.host)}<tt:PrefixLength>8</tt:PrefixLength></tt:Manual>"
        "<tt:DHCP>false</tt:DHCP></tt:Config></tt:IPv4>"
        "</tds:NetworkInterfaces></tds:GetNetworkInterfacesResponse>"
    )


def users(user: str | None) -> Operation:
    """GetUsers: the serve's one user (an administrator), or none without credentials."""

    def get_users(dev: Device, op: ET.Element, now: float) -> str:
        listed = ""
        if user is not None:
            listed = f"<tds:User>{el('tt:Username', user)}<tt:UserLevel>Administrator"
            listed += "</tt:UserLevel></tds:User>"
        return f"<tds:GetUsersResponse>{listed}</tds:GetUsersResponse>"

    return get_users


def operations(user: str | None) -> dict[str, Operation]:
    """The device service's operations by local name."""
    return {
        "GetSystemDateAndTime": get_system_date_and_time,
        "GetCapabilities": get_capabilities,
        "GetServices": get_services,
        "GetServiceCapabilities": get_service_capabilities,
        "GetDeviceInformation": get_device_information,
        "GetScopes": get_scopes,
        "GetHostname": get_hostname,
        "GetNetworkInterfaces": get_network_interfaces,
        "GetUsers": users(user),
    }
