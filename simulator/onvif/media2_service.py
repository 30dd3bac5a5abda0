"""The ONVIF Media2 service (ver20, tr2): the profiles again, H.265 included.

The same camera as media_service.py says it (one video source configuration, a profile per
stream, tokens `main` and `sub`, an encoder configuration of the profile's token), in
Media2's shapes: a profile's configurations only as GetProfiles' Type asks, the encoder's
Encoding H264, H265 or JPEG with its GOP and codec profile as attributes, options per
encoding. GetStreamUri answers RtspUnicast and RTSP (RTP over RTSP's TCP connection) with the
stream's RTSP URL; RtspMulticast and RtspOverHttp are refused (camsim does neither). Nothing
is configurable: an operation not here is ter:ActionNotSupported (services.py).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from xml.sax.saxutils import quoteattr

from simulator.onvif.device_service import TR2, Operation, media2_capabilities
from simulator.onvif.devices import SOURCE_CONFIG, Device, StreamProfile
from simulator.onvif.media_service import resolution, source_config, stream_profile
from simulator.onvif.ptz_node import configuration_xml
from simulator.onvif.soap import child, el, sender, split, text

ENCODINGS = {"h264": "H264", "h265": "H265", "mjpeg": "JPEG"}  # scenario codec → Encoding
CODEC_PROFILES = {"H264": "High", "H265": "Main"}  # what camsim's encoder streams
PROTOCOLS = ("RtspUnicast", "RTSP")  # RTP over UDP, over RTSP's TCP connection
TYPES = ("VideoSource", "VideoEncoder", "PTZ")  # the configurations a profile holds here


def _answer(name: str, inner: str) -> str:
    return f'<tr2:{name} xmlns:tr2="{TR2}">{inner}</tr2:{name}>'


def _range(tag: str, lo: float, hi: float) -> str:
    return f"<{tag}>{el('tt:Min', lo)}{el('tt:Max', hi)}</{tag}>"


def encoder_config(p: StreamProfile, tag: str) -> str:
    """A stream's VideoEncoder2Configuration: codec, size, rate, bitrate, GOP, profile."""
    enc = ENCODINGS[p.codec]
    extra = ""
    if enc in CODEC_PROFILES:
        extra = f' GovLength="{p.gop}" Profile="{CODEC_PROFILES[enc]}"'
    return (
        f"<{tag} token={quoteattr(p.name)}{extra}>{el('tt:Name', p.name)}"
        f"<tt:UseCount>1</tt:UseCount>{el('tt:Encoding', enc)}"
        f"{resolution('tt:Resolution', p)}<tt:RateControl>"
        f"{el('tt:FrameRateLimit', p.fps)}{el('tt:BitrateLimit', p.bitrate_kbps)}"
        f"</tt:RateControl><tt:Quality>5</tt:Quality></{tag}>"
    )


def _profile_xml(dev: Device, p: StreamProfile, kinds: set[str]) -> str:
    parts = ""
    if "VideoSource" in kinds:
        parts += source_config(dev, "tr2:VideoSource")
    if "VideoEncoder" in kinds:
        parts += encoder_config(p, "tr2:VideoEncoder")
    if "PTZ" in kinds and dev.ptz:
        parts += configuration_xml("tr2:PTZ", len(dev.profiles))
    configs = f"<tr2:Configurations>{parts}</tr2:Configurations>" if parts else ""
    head = f'<tr2:Profiles token={quoteattr(p.name)} fixed="true">{el("tr2:Name", p.name)}'
    return f"{head}{configs}</tr2:Profiles>"


def _chosen(dev: Device, op: ET.Element, tokens: set[str], what: str) -> list[StreamProfile]:
    """The profiles a GetConfiguration request names: by ProfileToken, by a configuration
    token among `tokens` (all of them for the video source's), or every profile."""
    if text(op, "ProfileToken") is not None:
        return [stream_profile(dev, op)]
    token = text(op, "ConfigurationToken")
    if token is None:
        return list(dev.profiles)
    if token not in tokens:
        raise sender("ter:InvalidArgVal/ter:NoConfig", f"no {what} configuration "
                     f"{token[:40]!r}: this camera has {', '.join(sorted(tokens))}")  # fmt: skip
    return [p for p in dev.profiles if token in (p.name, SOURCE_CONFIG)]


def get_profiles(dev: Device, op: ET.Element, now: float) -> str:
    kinds = {(c.text or "").strip() for c in op if split(c.tag)[1] == "Type"}
    if "All" in kinds:
        kinds = set(TYPES)
    ps = list(dev.profiles)
    if child(op, "Token") is not None:
        token = text(op, "Token")
        ps = [p for p in ps if p.name == token]
        if not ps:
            names = ", ".join(q.name for q in dev.profiles)
            raise sender("ter:InvalidArgVal/ter:NoProfile", f"no profile "
                         f"{str(token)[:40]!r}: this camera has {names}")  # fmt: skip
    return _answer("GetProfilesResponse", "".join(_profile_xml(dev, p, kinds) for p in ps))


def get_video_source_configurations(dev: Device, op: ET.Element, now: float) -> str:
    _chosen(dev, op, {SOURCE_CONFIG}, "video source")
    inner = source_config(dev, "tr2:Configurations")
    return _answer("GetVideoSourceConfigurationsResponse", inner)


def get_video_encoder_configurations(dev: Device, op: ET.Element, now: float) -> str:
    ps = _chosen(dev, op, {p.name for p in dev.profiles}, "video encoder")
    inner = "".join(encoder_config(p, "tr2:Configurations") for p in ps)
    return _answer("GetVideoEncoderConfigurationsResponse", inner)


def get_video_encoder_configuration_options(dev: Device, op: ET.Element, now: float) -> str:
    ps = _chosen(dev, op, {p.name for p in dev.profiles}, "video encoder")
    out = ""
    for enc in dict.fromkeys(ENCODINGS[p.codec] for p in ps):
        same = [p for p in ps if ENCODINGS[p.codec] == enc]
        attrs = ' FrameRatesSupported="{}"'.format(" ".join(str(p.fps) for p in same))
        if enc in CODEC_PROFILES:
            gops = [p.gop for p in same]
            attrs += f' GovLengthRange="{min(gops)} {max(gops)}"'
            attrs += f' ProfilesSupported="{CODEC_PROFILES[enc]}"'
        sizes = "".join(resolution("tt:ResolutionsAvailable", p) for p in same)
        rates = [p.bitrate_kbps for p in same]
        out += (
            f"<tr2:Options{attrs}>{el('tt:Encoding', enc)}{_range('tt:QualityRange', 5, 5)}"
            f"{sizes}{_range('tt:BitrateRange', min(rates), max(rates))}</tr2:Options>"
        )
    return _answer("GetVideoEncoderConfigurationOptionsResponse", out)


def get_stream_uri(dev: Device, op: ET.Element, now: float) -> str:
    protocol = text(op, "Protocol")
    if protocol not in PROTOCOLS:
        raise sender("ter:InvalidArgVal/ter:InvalidStreamSetup", f"camsim streams over "
                     f"{', '.join(PROTOCOLS)}, not {str(protocol)[:20]}")  # fmt: skip
    p = stream_profile(dev, op)
    return _answer("GetStreamUriResponse", el("tr2:Uri", p.rtsp_url))


def get_snapshot_uri(dev: Device, op: ET.Element, now: float) -> str:
    p = stream_profile(dev, op)
    return _answer("GetSnapshotUriResponse", el("tr2:Uri", dev.snapshot_url(p.name)))


def get_service_capabilities(dev: Device, op: ET.Element, now: float) -> str:
    return _answer("GetServiceCapabilitiesResponse", media2_capabilities(dev))


def operations() -> dict[str, Operation]:
    """The Media2 service's operations by local name."""
    return {
        "GetServiceCapabilities": get_service_capabilities,
        "GetProfiles": get_profiles,
        "GetVideoSourceConfigurations": get_video_source_configurations,
        "GetVideoEncoderConfigurations": get_video_encoder_configurations,
        "GetVideoEncoderConfigurationOptions": get_video_encoder_configuration_options,
        "GetStreamUri": get_stream_uri,
        "GetSnapshotUri": get_snapshot_uri,
    }
