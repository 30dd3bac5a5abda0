"""What a PTZ camera says it is: its node, its configuration and their generic spaces, as XML.

Every PTZ camera has one node (NODE) and one configuration (CONFIG), carried by all its media
profiles, in ONVIF's generic spaces: absolute pan and tilt in [-1, 1] and zoom in [0, 1]
(ptz_head.LIMITS), translations and velocities in [-1, 1], speeds in [0, 1] (a speed of 0 is
refused: it would never arrive). A ContinuousMove's timeout is MIN_TIMEOUT_S to
ptz_head.CONTINUOUS_MAX_S, DEFAULT_TIMEOUT_S when not given; at most MAX_PRESETS presets.
"""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from simulator.onvif.ptz_head import CONTINUOUS_MAX_S, LIMITS, Vector
from simulator.onvif.soap import el

TPTZ = "http://www.onvif.org/ver20/ptz/wsdl"
NODE, CONFIG = "ptz_node", "ptz_config"
MAX_PRESETS = 32  # per camera (city domes offer 64 to 256; a tour of a few is the use)
DEFAULT_TIMEOUT_S = 10.0  # a ContinuousMove without Timeout
MIN_TIMEOUT_S = 0.1
BASE = "http://www.onvif.org/ver10/tptz/"
Range = tuple[float, float]
PAN, TILT = LIMITS["pan"], LIMITS["tilt"]
SPACES: dict[str, tuple[str, Range, Range | None]] = {  # name: (URI, x range, y range or None)
    "AbsolutePanTiltPositionSpace": ("PanTiltSpaces/PositionGenericSpace", PAN, TILT),
    "AbsoluteZoomPositionSpace": ("ZoomSpaces/PositionGenericSpace", LIMITS["zoom"], None),
    "RelativePanTiltTranslationSpace": ("PanTiltSpaces/TranslationGenericSpace", (-1, 1), (-1, 1)),
    "RelativeZoomTranslationSpace": ("ZoomSpaces/TranslationGenericSpace", (-1, 1), None),
    "ContinuousPanTiltVelocitySpace": ("PanTiltSpaces/VelocityGenericSpace", (-1, 1), (-1, 1)),
    "ContinuousZoomVelocitySpace": ("ZoomSpaces/VelocityGenericSpace", (-1, 1), None),
    "PanTiltSpeedSpace": ("PanTiltSpaces/GenericSpeedSpace", (0, 1), None),
    "ZoomSpeedSpace": ("ZoomSpaces/ZoomGenericSpeedSpace", (0, 1), None),
}
CAPABILITIES = (
    f'<tptz:Capabilities xmlns:tptz="{TPTZ}" EFlip="false" Reverse="false" '
    'GetCompatibleConfigurations="false"/>'
)


def uri(space: str) -> str:
    return BASE + SPACES[space][0]


def _range(tag: str, lo: float, hi: float) -> str:
    return f"<{tag}>{el('tt:Min', lo)}{el('tt:Max', hi)}</{tag}>"


def _space(tag: str, name: str) -> str:
    _, x, y = SPACES[name]
    ys = _range("tt:YRange", *y) if y else ""
    return f"<{tag}>{el('tt:URI', uri(name))}{_range('tt:XRange', *x)}{ys}</{tag}>"


def spaces_xml() -> str:
    return "".join(_space(f"tt:{name}", name) for name in SPACES)


def configuration_xml(tag: str, use_count: int = 1) -> str:
    """The PTZ configuration, as a profile carries it and GetConfiguration(s) say it."""
    return (
        f"<{tag} token={quoteattr(CONFIG)}>{el('tt:Name', CONFIG)}{el('tt:UseCount', use_count)}"
        f"{el('tt:NodeToken', NODE)}"
        f"{el('tt:DefaultAbsolutePantTiltPositionSpace', uri('AbsolutePanTiltPositionSpace'))}"
        f"{el('tt:DefaultAbsoluteZoomPositionSpace', uri('AbsoluteZoomPositionSpace'))}"
        f"{el('tt:DefaultRelativePanTiltTranslationSpace', uri('RelativePanTiltTranslationSpace'))}"
        f"{el('tt:DefaultRelativeZoomTranslationSpace', uri('RelativeZoomTranslationSpace'))}"
        f"{el('tt:DefaultContinuousPanTiltVelocitySpace', uri('ContinuousPanTiltVelocitySpace'))}"
        f"{el('tt:DefaultContinuousZoomVelocitySpace', uri('ContinuousZoomVelocitySpace'))}"
        '<tt:DefaultPTZSpeed><tt:PanTilt x="1" y="1"/><tt:Zoom x="1"/></tt:DefaultPTZSpeed>'
        f"{el('tt:DefaultPTZTimeout', f'PT{DEFAULT_TIMEOUT_S:g}S')}"
        f"<tt:PanTiltLimits>{_space('tt:Range', 'AbsolutePanTiltPositionSpace')}</tt:PanTiltLimits>"
        f"<tt:ZoomLimits>{_space('tt:Range', 'AbsoluteZoomPositionSpace')}</tt:ZoomLimits></{tag}>"
    )


def _num(x: float) -> str:
    return f"{x:.6f}".rstrip("0").rstrip(".") if x else "0"


def vector_xml(tag: str, p: Vector) -> str:
    return (
        f'<{tag}><tt:PanTilt x="{_num(p[0])}" y="{_num(p[1])}" '
        f"space={quoteattr(uri('AbsolutePanTiltPositionSpace'))}/>"
        f'<tt:Zoom x="{_num(p[2])}" space={quoteattr(uri("AbsoluteZoomPositionSpace"))}/></{tag}>'
    )


def node_xml(tag: str) -> str:
    """The camera's one PTZ node: its spaces, presets and home."""
    return (
        f'<{tag} token={quoteattr(NODE)} FixedHomePosition="false">{el("tt:Name", NODE)}'
        f"<tt:SupportedPTZSpaces>{spaces_xml()}</tt:SupportedPTZSpaces>"
        f"{el('tt:MaximumNumberOfPresets', MAX_PRESETS)}<tt:HomeSupported>true"
        f"</tt:HomeSupported></{tag}>"
    )


def options_xml(tag: str) -> str:
    """The configuration's options: the spaces and the ContinuousMove timeouts."""
    return (
        f"<{tag}><tt:Spaces>{spaces_xml()}</tt:Spaces><tt:PTZTimeout>"
        f"{el('tt:Min', f'PT{MIN_TIMEOUT_S:g}S')}{el('tt:Max', f'PT{CONTINUOUS_MAX_S:g}S')}"
        f"</tt:PTZTimeout></{tag}>"
    )
