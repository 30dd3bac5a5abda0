"""The ONVIF event topics a camera offers, and which timeline events drive them.

Every topic is a property (ONVIF Core: a state with a value, sent "Initialized" when a
subscription starts, then "Changed"): a boolean per camera.

- tns1:VideoSource/SignalLoss (State): camera_down → true, camera_up → false
- tns1:VideoSource/GlobalSceneChange/ImagingService (State, tampering): stream_freeze → true
  for its duration_s
- tns1:VideoSource/MotionAlarm (State), tns1:RuleEngine/CellMotionDetector/Motion (IsMotion):
  no timeline kind yet, always false

The timeline has no motion of its own (activity episodes are a district's, incidents are
the operators' actions, which serve does not replay), so the motion topics say only what is
known: no motion. This module is the mapping alone: no clock, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

from simulator.onvif.devices import SOURCE, SOURCE_CONFIG
from simulator.timeline.event import Event

TOPICS_NS = "http://www.onvif.org/ver10/topics"
CONCRETE_SET = "http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet"
DIALECTS = (
    "http://docs.oasis-open.org/wsn/t-1/TopicExpression/Simple",
    "http://docs.oasis-open.org/wsn/t-1/TopicExpression/Concrete",
    CONCRETE_SET,
)
ANALYTICS_CONFIG = "video_analytics_config"  # the CellMotionDetector's (none configurable)
MOTION_RULE = "MyMotionDetectorRule"


@dataclass(frozen=True)
class Topic:
    """One property topic: its path under tns1, its source items and its boolean data item."""

    path: str  # e.g. VideoSource/SignalLoss
    source: tuple[tuple[str, str, str], ...]  # (name, XML Schema type, value)
    data: str  # the boolean's name: State, IsMotion

    @property
    def name(self) -> str:
        return f"tns1:{self.path}"


SIGNAL_LOSS = Topic("VideoSource/SignalLoss", (("Source", "tt:ReferenceToken", SOURCE),), "State")
TAMPERING = Topic("VideoSource/GlobalSceneChange/ImagingService",
                  (("Source", "tt:ReferenceToken", SOURCE),), "State")  # fmt: skip
MOTION_ALARM = Topic("VideoSource/MotionAlarm", (("Source", "tt:ReferenceToken", SOURCE),), "State")
CELL_MOTION = Topic(
    "RuleEngine/CellMotionDetector/Motion",
    (("VideoSourceConfigurationToken", "tt:ReferenceToken", SOURCE_CONFIG),
     ("VideoAnalyticsConfigurationToken", "tt:ReferenceToken", ANALYTICS_CONFIG),
     ("Rule", "xs:string", MOTION_RULE)),
    "IsMotion",
)  # fmt: skip
TOPICS = (MOTION_ALARM, CELL_MOTION, TAMPERING, SIGNAL_LOSS)
BY_PATH = {t.path: t for t in TOPICS}


def changes(event: Event) -> list[tuple[Topic, bool]]:
    """What a timeline event sets on its camera's topics now (a freeze's end is its duration
    later: the caller's clock)."""
    if event.kind == "camera_down":
        return [(SIGNAL_LOSS, True)]
    if event.kind == "camera_up":
        return [(SIGNAL_LOSS, False)]
    if event.kind == "stream_freeze":
        return [(TAMPERING, True)]
    return []


def _description(t: Topic) -> str:
    source = "".join(
        f"<tt:SimpleItemDescription Name={quoteattr(n)} Type={quoteattr(ty)}/>"
        for n, ty, _ in t.source
    )
    return (
        f'<tt:MessageDescription IsProperty="true"><tt:Source>{source}</tt:Source><tt:Data>'
        f'<tt:SimpleItemDescription Name="{t.data}" Type="xs:boolean"/></tt:Data>'
        "</tt:MessageDescription>"
    )


def topic_set() -> str:
    """The wstop:TopicSet of every topic, each leaf with its message description."""
    tree: dict = {}
    for t in TOPICS:
        node = tree
        for part in t.path.split("/"):
            node = node.setdefault(part, {})
        node[""] = t

    def render(node: dict, depth: int) -> str:
        out = []
        for part, sub in node.items():
            if part == "":
                continue
            tag = f"tns1:{part}" if depth == 0 else part
            leaf = sub.get("")
            attr = ' wstop:topic="true"' if leaf else ""
            inner = _description(leaf) if leaf else ""
            out.append(f"<{tag}{attr}>{inner}{render(sub, depth + 1)}</{tag}>")
        return "".join(out)

    return f"<wstop:TopicSet>{render(tree, 0)}</wstop:TopicSet>"


def matching(expression: str) -> frozenset[Topic]:
    """The topics a topic expression (Simple, Concrete or ConcreteSet: alternatives joined by
    "|", a trailing "//." for a whole subtree, "*" for any one level) selects. Prefixes are
    not resolved: each level is matched by its local name. ValueError when none matches."""
    chosen: set[Topic] = set()
    for alternative in expression.split("|"):
        parts = [p.split(":")[-1] for p in alternative.strip().split("/")]
        subtree = len(parts) > 2 and parts[-2:] == ["", "."]
        if subtree:
            parts = parts[:-2]
        for t in TOPICS:
            levels = t.path.split("/")
            if len(levels) < len(parts) or (not subtree and len(levels) != len(parts)):
                continue
            if all(p in ("*", lv) for p, lv in zip(parts, levels, strict=False)):
                chosen.add(t)
    if not chosen:
        raise ValueError(f"no topic matches {expression[:80]!r}")
    return frozenset(chosen)
