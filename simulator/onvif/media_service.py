"""The ONVIF media service (ver10, trt): a profile per stream, its URIs and configurations.

One video source per camera (the main stream's size and rate) and one video source
configuration shared by its profiles; a profile per stream (token `main`, `sub`) with a video
encoder configuration of the same token saying the scenario's codec, resolution, rate, GOP
and bitrate, and on a PTZ camera the PTZ configuration (ptz_service.py). Media ver10 has
no H.265: an H.265 stream's profile has no encoder configuration here (Media2's). Nothing
is configurable yet: the options are the values served.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from xml.sax.saxutils import quoteattr

from simulator.onvif.device_service import Operation, media_capabilities
from simulator.onvif.devices import SOURCE, SOURCE_CONFIG, Device, StreamProfile
from simulator.onvif.ptz_node import configuration_xml
from simulator.onvif.soap import el, sender, text

UNICAST = ("RTP-Unicast", "RTP_unicast")  # the second: what older clients (ZoneMinder) send
PROTOCOLS = ("UDP", "TCP", "RTSP")  # RTP over UDP, over RTSP's TCP connection (HTTP: no)


def _main(dev: Device) -> StreamProfile:
    return dev.profiles[0]


def resolution(tag: str, p: StreamProfile) -> str:
    return f"<{tag}>{el('tt:Width', p.width)}{el('tt:Height', p.height)}</{tag}>"


def video_source(dev: Device, tag: str = "trt:VideoSources") -> str:
    m = _main(dev)
    return (
        f"<{tag} token={quoteattr(SOURCE)}>{el('tt:Framerate', m.fps)}"
        f"{resolution('tt:Resolution', m)}</{tag}>"
    )


def source_config(dev: Device, tag: str) -> str:
    m = _main(dev)
    return (
        f"<{tag} token={quoteattr(SOURCE_CONFIG)}><tt:Name>{SOURCE_CONFIG}</tt:Name>"
        f"{el('tt:UseCount', len(dev.profiles))}{el('tt:SourceToken', SOURCE)}"
        f'<tt:Bounds x="0" y="0" width="{m.width}" height="{m.height}"/></{tag}>'
    )


def encoder_config(p: StreamProfile, tag: str) -> str:
    """A stream's VideoEncoderConfiguration ('' for a codec Media ver10 has not)."""
    if p.encoding is None:
        return ""
    h264 = ""
    if p.encoding == "H264":
        h264 = f"<tt:H264>{el('tt:GovLength', p.gop)}<tt:H264Profile>High</tt:H264Profile>"
        h264 += "</tt:H264>"
    return (
        f"<{tag} token={quoteattr(p.name)}>{el('tt:Name', p.name)}<tt:UseCount>1</tt:UseCount>"
        f"{el('tt:Encoding', p.encoding)}{resolution('tt:Resolution', p)}"
        f"<tt:Quality>5</tt:Quality><tt:RateControl>{el('tt:FrameRateLimit', round(p.fps))}"
        f"<tt:EncodingInterval>1</tt:EncodingInterval>{el('tt:BitrateLimit', p.bitrate_kbps)}"
        f"</tt:RateControl>{h264}<tt:Multicast><tt:Address><tt:Type>IPv4</tt:Type>"
        "<tt:IPv4Address>0.0.0.0</tt:IPv4Address></tt:Address><tt:Port>0</tt:Port>"
        "<tt:TTL>1</tt:TTL><tt:AutoStart>false</tt:AutoStart></tt:Multicast>"
        f"<tt:SessionTimeout>PT60S</tt:SessionTimeout></{tag}>"
    )


def profile_xml(dev: Device, p: StreamProfile, tag: str) -> str:
    return (
        f'<{tag} token={quoteattr(p.name)} fixed="true">{el("tt:Name", p.name)}'
        f"{source_config(dev, 'tt:VideoSourceConfiguration')}"
        f"{encoder_config(p, 'tt:VideoEncoderConfiguration')}"
        f"{configuration_xml('tt:PTZConfiguration', len(dev.profiles)) if dev.ptz else ''}</{tag}>"
    )


def stream_profile(dev: Device, op: ET.Element) -> StreamProfile:
    token = text(op, "ProfileToken")
    p = dev.profile(token)
    if p is None:
        names = ", ".join(q.name for q in dev.profiles)
        raise sender("ter:InvalidArgVal/ter:NoProfile", f"no profile {str(token)[:40]!r}: "
                     f"this camera has {names}")  # fmt: skip
    return p


def _encoder(dev: Device, token: str | None) -> StreamProfile:
    p = dev.profile(token)
    if p is None or p.encoding is None:
        names = ", ".join(q.name for q in dev.profiles if q.encoding)
        raise sender(
            "ter:InvalidArgVal/ter:NoConfig",
            f"no video encoder configuration "
            f"{str(token)[:40]!r}: this camera has {names or 'none in Media ver10'}",
        )
    return p


def _media_uri(tag: str, uri: str) -> str:
    return (
        f"<{tag}><trt:MediaUri>{el('tt:Uri', uri)}<tt:InvalidAfterConnect>false"
        "</tt:InvalidAfterConnect><tt:InvalidAfterReboot>false</tt:InvalidAfterReboot>"
        f"<tt:Timeout>PT0S</tt:Timeout></trt:MediaUri></{tag}>"
    )


def get_profiles(dev: Device, op: ET.Element, now: float) -> str:
    items = "".join(profile_xml(dev, p, "trt:Profiles") for p in dev.profiles)
    return f"<trt:GetProfilesResponse>{items}</trt:GetProfilesResponse>"


def get_profile(dev: Device, op: ET.Element, now: float) -> str:
    p = stream_profile(dev, op)
    return f"<trt:GetProfileResponse>{profile_xml(dev, p, 'trt:Profile')}</trt:GetProfileResponse>"


def get_stream_uri(dev: Device, op: ET.Element, now: float) -> str:
    stream = text(op, "StreamSetup", "Stream")
    protocol = text(op, "StreamSetup", "Transport", "Protocol")
    if stream not in UNICAST or protocol not in PROTOCOLS:
        raise sender("ter:InvalidArgVal/ter:InvalidStreamSetup", f"camsim streams "
                     f"RTP-Unicast over {', '.join(PROTOCOLS)}, not {str(stream)[:20]} over "
                     f"{str(protocol)[:20]}")  # fmt: skip
    p = stream_profile(dev, op)
    return _media_uri("trt:GetStreamUriResponse", p.rtsp_url)


def get_snapshot_uri(dev: Device, op: ET.Element, now: float) -> str:
    p = stream_profile(dev, op)
    return _media_uri("trt:GetSnapshotUriResponse", dev.snapshot_url(p.name))


def get_video_sources(dev: Device, op: ET.Element, now: float) -> str:
    return f"<trt:GetVideoSourcesResponse>{video_source(dev)}</trt:GetVideoSourcesResponse>"


def get_video_source_configurations(dev: Device, op: ET.Element, now: float) -> str:
    inner = source_config(dev, "trt:Configurations")
    return (
        f"<trt:GetVideoSourceConfigurationsResponse>{inner}"
        "</trt:GetVideoSourceConfigurationsResponse>"
    )


def get_video_source_configuration(dev: Device, op: ET.Element, now: float) -> str:
    token = text(op, "ConfigurationToken")
    if token != SOURCE_CONFIG:
        raise sender("ter:InvalidArgVal/ter:NoConfig", f"no video source configuration "
                     f"{str(token)[:40]!r}: this camera has {SOURCE_CONFIG}")  # fmt: skip
    inner = source_config(dev, "trt:Configuration")
    return (
        f"<trt:GetVideoSourceConfigurationResponse>{inner}"
        "</trt:GetVideoSourceConfigurationResponse>"
    )


def get_video_encoder_configurations(dev: Device, op: ET.Element, now: float) -> str:
    inner = "".join(encoder_config(p, "trt:Configurations") for p in dev.profiles)
    return (
        f"<trt:GetVideoEncoderConfigurationsResponse>{inner}"
        "</trt:GetVideoEncoderConfigurationsResponse>"
    )


def get_video_encoder_configuration(dev: Device, op: ET.Element, now: float) -> str:
    p = _encoder(dev, text(op, "ConfigurationToken"))
    return (
        f"<trt:GetVideoEncoderConfigurationResponse>{encoder_config(p, 'trt:Configuration')}"
        "</trt:GetVideoEncoderConfigurationResponse>"
    )


def _range(tag: str, lo: int, hi: int) -> str:
    return f"<{tag}>{el('tt:Min', lo)}{el('tt:Max', hi)}</{tag}>"


def get_video_encoder_configuration_options(dev: Device, op: ET.Element, now: float) -> str:
    token = text(op, "ConfigurationToken") or text(op, "ProfileToken")
    choices = [_encoder(dev, token)] if token else [p for p in dev.profiles if p.encoding]
    codecs = ""
    for enc in ("JPEG", "H264"):  # the schema's order
        ps = [p for p in choices if p.encoding == enc]
        if not ps:
            continue
        sizes = "".join(resolution("tt:ResolutionsAvailable", p) for p in ps)
        fps = [round(p.fps) for p in ps]
        gop = [p.gop for p in ps]
        inner = sizes
        if enc == "H264":
            inner += _range("tt:GovLengthRange", min(gop), max(gop))
        inner += _range("tt:FrameRateRange", min(fps), max(fps))
        inner += _range("tt:EncodingIntervalRange", 1, 1)
        if enc == "H264":
            inner += "<tt:H264ProfilesSupported>High</tt:H264ProfilesSupported>"
        codecs += f"<tt:{enc}>{inner}</tt:{enc}>"
    return (
        "<trt:GetVideoEncoderConfigurationOptionsResponse><trt:Options>"
        f"{_range('tt:QualityRange', 5, 5)}{codecs}</trt:Options>"
        "</trt:GetVideoEncoderConfigurationOptionsResponse>"
    )


def get_service_capabilities(dev: Device, op: ET.Element, now: float) -> str:
    return (
        f"<trt:GetServiceCapabilitiesResponse>{media_capabilities(dev)}"
        "</trt:GetServiceCapabilitiesResponse>"
    )


def operations() -> dict[str, Operation]:
    """The media service's operations by local name."""
    return {
        "GetProfiles": get_profiles,
        "GetProfile": get_profile,
        "GetStreamUri": get_stream_uri,
        "GetSnapshotUri": get_snapshot_uri,
        "GetVideoSources": get_video_sources,
        "GetVideoSourceConfigurations": get_video_source_configurations,
        "GetVideoSourceConfiguration": get_video_source_configuration,
        "GetVideoEncoderConfigurations": get_video_encoder_configurations,
        "GetVideoEncoderConfiguration": get_video_encoder_configuration,
        "GetVideoEncoderConfigurationOptions": get_video_encoder_configuration_options,
        "GetServiceCapabilities": get_service_capabilities,
    }
