"""WS-Security UsernameToken with PasswordDigest, as ONVIF devices check it.

Digest = Base64(SHA-1(nonce + created + password)). A token is good when its user and digest
are right, its Created lies within `max_skew_s` of the device's clock, and its nonce was not
seen before with the same Created inside that window (a replay repeats both). Seen nonces
are kept at most `max_nonces`; a token created no later than one that fell out of that
table is refused as a possible replay.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import xml.etree.ElementTree as ET
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime

from simulator.onvif.soap import child, sender, split, text

DIGEST = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
    "#PasswordDigest"
)
#: What a client may ask before it authenticates (ONVIF Core: the PRE_AUTH access class).
PRE_AUTH = frozenset(
    {"GetSystemDateAndTime", "GetServices", "GetServiceCapabilities", "GetCapabilities",
     "GetHostname", "GetEndpointReference", "GetWsdlUrl"}
)  # fmt: skip
MAX_NONCE = 64  # bytes of a decoded nonce (clients send 16)


def digest(nonce: bytes, created: str, password: str) -> str:
    """The PasswordDigest of a nonce, a Created value and a password."""
    raw = hashlib.sha1(nonce + created.encode() + password.encode()).digest()  # noqa: S324
    return base64.b64encode(raw).decode()


def _created(value: str) -> float:
    """Seconds since the epoch of an xs:dateTime in UTC ('…Z' or '+00:00')."""
    stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if stamp.tzinfo is None:
        raise ValueError("no time zone")
    return stamp.timestamp()


@dataclass
class UsernameTokens:
    """Checks the UsernameToken of each request against one user and password."""

    user: str
    password: str
    max_skew_s: float = 300.0
    max_nonces: int = 100_000
    _seen: OrderedDict[bytes, float] = field(default_factory=OrderedDict, init=False)
    _floor: float = field(default=float("-inf"), init=False)  # newest Created forgotten

    def check(self, header: ET.Element | None, now: float) -> None:
        """Raise a ter:NotAuthorized SoapFault unless the header holds a good token."""
        token = child(child(header, "Security"), "UsernameToken")
        if token is None:
            raise sender("ter:NotAuthorized", "Sender not authorized: no UsernameToken")
        password = child(token, "Password")
        if password is None or password.get("Type", DIGEST) != DIGEST:
            raise sender("ter:NotAuthorized", "Sender not authorized: PasswordDigest needed")
        user, nonce_b64, created = text(token, "Username"), text(token, "Nonce"), None
        for c in token:
            if split(c.tag)[1] == "Created":
                created = (c.text or "").strip()
        if not user or not nonce_b64 or not created:
            raise sender("ter:NotAuthorized", "Sender not authorized: Username, Nonce and "
                         "Created are needed")  # fmt: skip
        try:
            nonce = base64.b64decode(nonce_b64, validate=True)
            when = _created(created)
        except (binascii.Error, ValueError):
            raise sender(
                "ter:NotAuthorized", "Sender not authorized: a bad Nonce or Created"
            ) from None
        want = digest(nonce, created, self.password)
        good = hmac.compare_digest(user.encode(), self.user.encode()) & hmac.compare_digest(
            (password.text or "").strip().encode(), want.encode()
        )
        if not good or len(nonce) > MAX_NONCE:
            raise sender("ter:NotAuthorized", "Sender not authorized")
        if abs(when - now) > self.max_skew_s:
            off = f"{when - now:+.0f} s from the device's clock (at most {self.max_skew_s:g})"
            raise sender("ter:NotAuthorized", f"Sender not authorized: Created is {off}")
        # a replay repeats nonce and Created: ZoneMinder's probe draws its nonces from 1,000
        # values per run, so a nonce alone comes back from honest clients within the window
        seen = nonce + b"@" + created.encode()
        if seen in self._seen or when <= self._floor:
            raise sender("ter:NotAuthorized", "Sender not authorized: a replayed nonce")
        self._remember(seen, when, now)

    def _remember(self, nonce: bytes, when: float, now: float) -> None:
        self._seen[nonce] = when
        while self._seen:  # tokens that can no longer pass the clock check go first
            t = next(iter(self._seen.values()))
            expired = t < now - self.max_skew_s
            if not expired and len(self._seen) <= self.max_nonces:
                break
            self._seen.popitem(last=False)
            if not expired:  # forgotten while still valid: refuse what is not newer
                self._floor = max(self._floor, t)
