"""The ONVIF event service (ver10, tev): topics, PullPoint subscriptions and their messages.

GetEventProperties lists the topics (topics.py); CreatePullPointSubscription makes a
subscription (pullpoint.py) at its own address, where PullMessages, Renew, Unsubscribe and
SetSynchronizationPoint are posted. A relative termination time (or none: DEFAULT_TERMINATION_S)
is kept alive by every pull; an absolute one is not. Refusals are the WS-BaseNotification
faults the WSDL declares, with their detail: an unknown or expired subscription is
wsrf-r:ResourceUnknownFault, no room for another is wsnt:SubscribeCreationFailedFault, a
pull's Timeout over MAX_PULL_S is tev:PullMessagesFaultResponse.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable
from xml.sax.saxutils import escape, quoteattr

from simulator.onvif import topics, xstime
from simulator.onvif.device_service import event_capabilities
from simulator.onvif.devices import Device
from simulator.onvif.pullpoint import Full, Message, PullPoints, Subscription, Unknown
from simulator.onvif.soap import SoapFault, child, el, receiver, sender, split, text

DEFAULT_TERMINATION_S = 60.0  # no InitialTerminationTime: kept alive by pulls
MAX_TERMINATION_S = 3600.0  # a longer one is cut to this
MAX_PULL_S = 60.0  # the longest PullMessages Timeout (the WSDL: at least one minute)

Answer = str | Awaitable[str]


def wsn_fault(
    element: str, reason: str, now: float, extra: str = "", code: str = "Sender"
) -> SoapFault:
    """A WS-BaseNotification fault: `element` (e.g. wsrf-r:ResourceUnknownFault) its subcode
    and its detail, with its Timestamp and Description."""
    detail = (
        f"<{element}><wsrf-bf:Timestamp>{xstime.iso(now)}</wsrf-bf:Timestamp>"
        f"<wsrf-bf:Description>{escape(reason[:200])}</wsrf-bf:Description>{extra}</{element}>"
    )
    make = sender if code == "Sender" else receiver
    return make(element, reason, detail=detail)


def message_xml(m: Message, offset: float) -> str:
    """A wsnt:NotificationMessage for one message (its UtcTime on the camera's clock)."""
    t = m.topic
    source = "".join(
        f"<tt:SimpleItem Name={quoteattr(n)} Value={quoteattr(v)}/>" for n, _, v in t.source
    )
    value = "true" if m.value else "false"
    return (
        f'<wsnt:NotificationMessage><wsnt:Topic Dialect="{topics.CONCRETE_SET}">{t.name}'
        f'</wsnt:Topic><wsnt:Message><tt:Message UtcTime="{xstime.iso(m.at + offset)}" '
        f'PropertyOperation="{m.operation}"><tt:Source>{source}</tt:Source><tt:Data>'
        f'<tt:SimpleItem Name="{t.data}" Value="{value}"/></tt:Data></tt:Message>'
        "</wsnt:Message></wsnt:NotificationMessage>"
    )


class EventService:
    """The event service's operations over the cameras' pull points. `clock` is the host's
    Unix time; `now` given to an operation is the camera's own (the host's plus its offset)."""

    def __init__(
        self, points: PullPoints, clock: Callable[[], float], offset: Callable[[str], float]
    ) -> None:
        self.points = points
        self.clock = clock
        self.offset = offset  # a camera's clock offset (the timeline's clock_jump)

    def operations(self) -> dict[str, Callable[[Device, ET.Element, float], Answer]]:
        """The tev operations any path answers."""
        return {
            "GetServiceCapabilities": self.get_service_capabilities,
            "GetEventProperties": self.get_event_properties,
            "CreatePullPointSubscription": self.create_pull_point_subscription,
        }

    def subscription_operations(self) -> dict[tuple[str, str], Callable[..., Answer]]:
        """(namespace, name) → the operations on a subscription, given its id."""
        tev, wsnt = "http://www.onvif.org/ver10/events/wsdl", "http://docs.oasis-open.org/wsn/b-2"
        return {
            (tev, "PullMessages"): self.pull_messages,
            (tev, "SetSynchronizationPoint"): self.set_synchronization_point,
            (wsnt, "Renew"): self.renew,
            (wsnt, "Unsubscribe"): self.unsubscribe,
        }

    def get_service_capabilities(self, dev: Device, op: ET.Element, now: float) -> str:
        caps = event_capabilities(self.points.max_per_camera)
        return f"<tev:GetServiceCapabilitiesResponse>{caps}</tev:GetServiceCapabilitiesResponse>"

    def get_event_properties(self, dev: Device, op: ET.Element, now: float) -> str:
        dialects = "".join(el("wsnt:TopicExpressionDialect", d) for d in topics.DIALECTS)
        return (
            "<tev:GetEventPropertiesResponse><tev:TopicNamespaceLocation>"
            "http://www.onvif.org/onvif/ver10/topics/topicns.xml</tev:TopicNamespaceLocation>"
            f"<wsnt:FixedTopicSet>true</wsnt:FixedTopicSet>{topics.topic_set()}{dialects}"
            "<tev:MessageContentFilterDialect>http://www.onvif.org/ver10/tev/messageContentFilter"
            "/ItemFilter</tev:MessageContentFilterDialect><tev:MessageContentSchemaLocation>"
            "http://www.onvif.org/onvif/ver10/schema/onvif.xsd</tev:MessageContentSchemaLocation>"
            "</tev:GetEventPropertiesResponse>"
        )

    def create_pull_point_subscription(self, dev: Device, op: ET.Element, now: float) -> str:
        host = self.clock()
        chosen = self._filter(child(op, "Filter"), host)
        when = child(op, "InitialTerminationTime")
        asked = (when.text or "").strip() if when is not None else ""
        terminates, keep = self._termination(
            asked, now, host, "UnacceptableInitialTerminationTimeFault"
        )
        try:
            sub = self.points.create(dev.id, chosen, terminates, keep, host)
        except Full as why:
            raise wsn_fault(
                "wsnt:SubscribeCreationFailedFault", str(why), host, code="Receiver"
            ) from None
        offset = now - host
        return (
            "<tev:CreatePullPointSubscriptionResponse><tev:SubscriptionReference>"
            f"{el('wsa:Address', dev.subscription_address(sub.id))}</tev:SubscriptionReference>"
            f"{el('wsnt:CurrentTime', xstime.iso(now))}"
            f"{el('wsnt:TerminationTime', xstime.iso(sub.terminates + offset))}"
            "</tev:CreatePullPointSubscriptionResponse>"
        )

    def pull_messages(self, dev: Device, op: ET.Element, now: float, sub_id: str) -> Answer:
        host = self.clock()
        sub = self._sub(sub_id, dev, host)
        try:
            timeout = xstime.duration(text(op, "Timeout") or "")
            limit = int(text(op, "MessageLimit") or "")
        except ValueError as why:
            raise sender("ter:InvalidArgVal", f"PullMessages: {why}") from None
        if timeout > MAX_PULL_S or timeout < 0 or limit < 1:
            most = self.points.max_queued
            raise sender("ter:InvalidArgVal", f"Timeout is at most PT{MAX_PULL_S:g}S and "
                         "MessageLimit at least 1", detail=(
                "<tev:PullMessagesFaultResponse>"
                f"<tev:MaxTimeout>PT{MAX_PULL_S:g}S</tev:MaxTimeout>"
                f"<tev:MaxMessageLimit>{most}</tev:MaxMessageLimit>"
                "</tev:PullMessagesFaultResponse>"))  # fmt: skip
        if sub.keep_alive is not None:  # not to expire while pulled
            sub.terminates = max(sub.terminates, host + timeout + sub.keep_alive)
        return self._pulled(dev, sub, timeout, limit)

    async def _pulled(self, dev: Device, sub: Subscription, timeout: float, limit: int) -> str:
        got = await self.points.pull(sub, timeout, min(limit, self.points.max_queued))
        host = self.clock()
        if sub.keep_alive is not None:
            sub.terminates = host + sub.keep_alive
        offset = self.offset(dev.id)
        return (
            f"<tev:PullMessagesResponse>{el('tev:CurrentTime', xstime.iso(host + offset))}"
            f"{el('tev:TerminationTime', xstime.iso(sub.terminates + offset))}"
            f"{''.join(message_xml(m, offset) for m in got)}</tev:PullMessagesResponse>"
        )

    def renew(self, dev: Device, op: ET.Element, now: float, sub_id: str) -> str:
        host = self.clock()
        sub = self._sub(sub_id, dev, host)
        asked = text(op, "TerminationTime") or ""
        sub.terminates, sub.keep_alive = self._termination(
            asked, now, host, "UnacceptableTerminationTimeFault"
        )
        offset = now - host
        return (
            f"<wsnt:RenewResponse>{el('wsnt:TerminationTime', xstime.iso(sub.terminates + offset))}"
            f"{el('wsnt:CurrentTime', xstime.iso(now))}</wsnt:RenewResponse>"
        )

    def unsubscribe(self, dev: Device, op: ET.Element, now: float, sub_id: str) -> str:
        self.points.unsubscribe(self._sub(sub_id, dev, self.clock()))
        return "<wsnt:UnsubscribeResponse/>"

    def set_synchronization_point(
        self, dev: Device, op: ET.Element, now: float, sub_id: str
    ) -> str:
        host = self.clock()
        self.points.synchronize(self._sub(sub_id, dev, host), host)
        return "<tev:SetSynchronizationPointResponse/>"

    def _sub(self, sub_id: str, dev: Device, host: float) -> Subscription:
        try:
            return self.points.get(sub_id, dev.id, host)
        except Unknown as why:
            raise wsn_fault("wsrf-r:ResourceUnknownFault", str(why), host) from None

    def _termination(
        self, asked: str, now: float, host: float, fault: str
    ) -> tuple[float, float | None]:
        """(host Unix time, keep-alive seconds or None) of a requested termination time given
        on the camera's clock (`now`); '' is DEFAULT_TERMINATION_S, kept alive."""
        if not asked:
            return host + DEFAULT_TERMINATION_S, DEFAULT_TERMINATION_S
        try:
            at, relative = xstime.absolute_or_relative(asked, now)
        except ValueError as why:
            raise wsn_fault(f"wsnt:{fault}", str(why), host, self._minimum(now)) from None
        if at <= now:
            raise wsn_fault(f"wsnt:{fault}", f"{asked[:40]!r} is not in the future", host,
                            self._minimum(now))  # fmt: skip
        seconds = min(at - now, MAX_TERMINATION_S)
        return host + seconds, (min(relative, MAX_TERMINATION_S) if relative is not None else None)

    @staticmethod
    def _minimum(now: float) -> str:
        return el("wsnt:MinimumTime", xstime.iso(now + 1)) + el(
            "wsnt:MaximumTime", xstime.iso(now + MAX_TERMINATION_S)
        )

    def _filter(self, filt: ET.Element | None, host: float) -> frozenset[topics.Topic]:
        """The topics a Filter selects: every TopicExpression's (all must hold), or all."""
        chosen = frozenset(topics.TOPICS)
        for expr in filt if filt is not None else ():
            if split(expr.tag)[1] != "TopicExpression":
                continue  # MessageContent, ProducerProperties: not applied
            dialect = expr.get("Dialect", topics.CONCRETE_SET)
            if dialect not in topics.DIALECTS:
                raise wsn_fault(
                    "wsnt:TopicExpressionDialectUnknownFault",
                    f"dialect {dialect[:80]!r} is not one of GetEventProperties'",
                    host,
                )
            try:
                chosen &= topics.matching(expr.text or "")
            except ValueError as why:
                raise wsn_fault("wsnt:TopicNotSupportedFault", str(why), host) from None
        if not chosen:
            raise wsn_fault(
                "wsnt:TopicNotSupportedFault",
                "the topic expressions select no topic together",
                host,
            )
        return chosen
