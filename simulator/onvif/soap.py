"""SOAP envelopes: a request read within bounds, an answer or a fault written.

A request is at most MAX_BODY bytes of XML, nested at most MAX_DEPTH deep with at most
MAX_ELEMENTS elements, parsed with defusedxml (no DTD, no entities, nothing external).
SOAP 1.2 and 1.1 are both read; the answer is in the request's own version. What is refused
or not implemented is a `SoapFault` (a code, an ONVIF subcode and one line of reason),
never a traceback.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from xml.sax.saxutils import escape

try:
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import DefusedXMLParser
except ImportError:  # without the onvif extra: serve_onvif says what to install
    DefusedXMLParser = None

    class DefusedXmlException(ValueError):  # type: ignore[no-redef]
        """Stands for defusedxml's (never raised without it)."""


MAX_BODY = 64 * 1024  # a SOAP request: a few kB, with a WS-Security header
MAX_DEPTH = 32  # nesting of the envelope
MAX_ELEMENTS = 2000

SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"

NS = {
    "tds": "http://www.onvif.org/ver10/device/wsdl",
    "trt": "http://www.onvif.org/ver10/media/wsdl",
    "tt": "http://www.onvif.org/ver10/schema",
    "ter": "http://www.onvif.org/ver10/error",
    "tev": "http://www.onvif.org/ver10/events/wsdl",
    "wsnt": "http://docs.oasis-open.org/wsn/b-2",
    "wstop": "http://docs.oasis-open.org/wsn/t-1",
    "wsa": "http://www.w3.org/2005/08/addressing",
    "wsrf-r": "http://docs.oasis-open.org/wsrf/r-2",
    "wsrf-bf": "http://docs.oasis-open.org/wsrf/bf-2",
    "tns1": "http://www.onvif.org/ver10/topics",
    "xs": "http://www.w3.org/2001/XMLSchema",
    "wsse": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd",
    "wsu": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd",
}


class SoapFault(Exception):
    """A refusal: `code` Sender or Receiver, an ONVIF subcode such as ter:NotAuthorized
    (nested ones joined by "/": ter:InvalidArgVal/ter:NoProfile), and the fault's detail
    (XML using the NS prefixes; the event service's WS-BaseFaults)."""

    def __init__(
        self, code: str, subcode: str, reason: str, status: int | None = None, detail: str = ""
    ) -> None:
        super().__init__(reason)
        self.code = code
        self.subcode = subcode
        self.reason = " ".join(reason.split())[:200]
        self.status = status or (400 if code == "Sender" else 500)
        self.detail = detail


def sender(subcode: str, reason: str, status: int | None = None, detail: str = "") -> SoapFault:
    return SoapFault("Sender", subcode, reason, status, detail)


def receiver(subcode: str, reason: str, detail: str = "") -> SoapFault:
    return SoapFault("Receiver", subcode, reason, None, detail)


@dataclass(frozen=True)
class Request:
    """A parsed SOAP request: its version's namespace, header and the body's first element."""

    soap: str  # SOAP12 or SOAP11
    header: ET.Element | None
    action: ET.Element

    @property
    def name(self) -> tuple[str, str]:
        """(namespace, local name) of the operation."""
        return split(self.action.tag)


def split(tag: str) -> tuple[str, str]:
    """'{ns}local' → (ns, local)."""
    if tag.startswith("{"):
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return "", tag


class _Bounded(ET.TreeBuilder):
    """A tree builder that refuses a document too deep or with too many elements."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.count = 0

    def start(self, tag, attrs):  # noqa: ANN001, ANN201
        self.depth += 1
        self.count += 1
        if self.depth > MAX_DEPTH:
            raise sender("ter:InvalidArgs", f"XML nested deeper than {MAX_DEPTH} elements")
        if self.count > MAX_ELEMENTS:
            raise sender("ter:InvalidArgs", f"more than {MAX_ELEMENTS} XML elements")
        return super().start(tag, attrs)

    def end(self, tag):  # noqa: ANN001, ANN201
        self.depth -= 1
        return super().end(tag)


def parse(body: bytes) -> Request:
    """A request body as a Request; raises SoapFault (Sender) for anything else."""
    if len(body) > MAX_BODY:
        raise sender("ter:InvalidArgs", f"body larger than {MAX_BODY} bytes", 413)
    if DefusedXMLParser is None:
        raise receiver("ter:Action", "defusedxml is not installed: pip install 'camsim[onvif]'")
    builder = _Bounded()
    parser = DefusedXMLParser(target=builder, forbid_dtd=True)
    try:
        parser.feed(body.lstrip())  # ZoneMinder's SOAP::Lite sends a space before <?xml
        root = parser.close()
    except SoapFault:
        raise
    except DefusedXmlException:
        raise sender("ter:WellFormed", "no DTD, entity or external reference allowed") from None
    except (ET.ParseError, ValueError, UnicodeError) as exc:
        raise sender("ter:WellFormed", f"not well-formed XML: {str(exc)[:80]}") from None
    soap, local = split(root.tag)
    if local != "Envelope" or soap not in (SOAP12, SOAP11):
        raise SoapFault("VersionMismatch", "ter:WellFormed", "not a SOAP 1.2 or 1.1 Envelope")
    header = root.find(f"{{{soap}}}Header")
    body_el = root.find(f"{{{soap}}}Body")
    if body_el is None or len(body_el) == 0:
        raise sender("ter:WellFormed", "the Envelope has no Body or an empty one")
    return Request(soap, header, body_el[0])


def child(el: ET.Element | None, local: str) -> ET.Element | None:
    """The first child of `el` with this local name, whatever its namespace."""
    if el is None:
        return None
    for c in el:
        if split(c.tag)[1] == local:
            return c
    return None


def text(el: ET.Element | None, *path: str) -> str | None:
    """The stripped text at a path of local names under `el`, or None."""
    for local in path:
        el = child(el, local)
    return None if el is None else (el.text or "").strip()


_DECLS = " ".join(f'xmlns:{p}="{u}"' for p, u in NS.items())


def envelope(soap: str, body: str) -> bytes:
    """A whole answer: `body` (XML using the NS prefixes) in an Envelope of version `soap`."""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<env:Envelope xmlns:env="{soap}" {_DECLS}>'
        f"<env:Body>{body}</env:Body></env:Envelope>"
    ).encode()


def fault_envelope(soap: str, fault: SoapFault) -> bytes:
    """A SOAP fault in the request's version (1.1: the subcode leads the faultstring)."""
    reason = escape(fault.reason)
    if soap == SOAP11:
        code = {"Sender": "Client", "Receiver": "Server"}.get(fault.code, fault.code)
        detail = f"<detail>{fault.detail}</detail>" if fault.detail else ""
        body = (
            f"<env:Fault><faultcode>env:{code}</faultcode>"
            f"<faultstring>{escape(fault.subcode)}: {reason}</faultstring>{detail}</env:Fault>"
        )
    else:
        codes = fault.subcode.split("/")  # ter:InvalidArgVal/ter:NoProfile: nested
        sub = "".join(f"<env:Subcode><env:Value>{escape(c)}</env:Value>" for c in codes)
        body = (
            f"<env:Fault><env:Code><env:Value>env:{fault.code}</env:Value>"
            f"{sub}{'</env:Subcode>' * len(codes)}</env:Code>"
            f'<env:Reason><env:Text xml:lang="en">{reason}</env:Text></env:Reason>'
            f"{f'<env:Detail>{fault.detail}</env:Detail>' if fault.detail else ''}</env:Fault>"
        )
    return envelope(soap, body)


def el(tag: str, value: object) -> str:
    """<tag>value</tag>, the value escaped (booleans as XML's true/false)."""
    if isinstance(value, bool):
        value = "true" if value else "false"
    return f"<{tag}>{escape(str(value))}</{tag}>"
