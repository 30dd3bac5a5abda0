"""Camera credentials: HTTP Basic (RFC 7617) and Digest (RFC 2617/7616, MD5 or SHA-256).

A nonce is a timestamp and a serial number signed with a per-server secret together with the
connection it was issued on (`bind`), valid there for `nonce_ttl_s`. A digest is good only
for the request URL it names (`uri`), on that connection and, with `qop=auth`, once per nonce
count: the highest `nc` of the last `max_nonces` nonces used is kept, and a nonce issued before
one that fell out of that table is stale. The right digest on an expired nonce, or on one of
another connection, is told `stale=true` (the client retries with a new one). Answers without
`qop` (RFC 2069: GStreamer, live555) carry no count: they are good again for the same method
and URL on their own connection, which only their client can send on.

The client's side is here too: `parse_challenge` reads a WWW-Authenticate value and
`answer_challenge` writes the Authorization that answers it; both sides compute a digest
with `digest_response`.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import re
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from simulator.streams.protocol import MAX_URL

MAX_FIELD = 512  # longest digest parameter but the uri (a SHA-256 response is 64)
MAX_BASIC = 1024  # longest base64 user:password
_NONCE = re.compile(r"[0-9a-f]{32}")  # 8 of time, 8 of serial number, 16 of signature
_NC = re.compile(r"[0-9a-fA-F]{8}")
_PARAM = re.compile(r'\s*([A-Za-z0-9_-]+)\s*=\s*("((?:[^"\\]|\\.)*)"|[^\s,]+)\s*,?')


def parse_digest(value: str) -> dict[str, str]:
    """The key=value pairs of a Digest Authorization header (after the scheme)."""
    out = {}
    for m in _PARAM.finditer(value):
        out[m.group(1).lower()] = m.group(3) if m.group(3) is not None else m.group(2)
    return out


def _b(text: str) -> bytes:
    # compare_digest takes str only when ASCII; a header decoded from UTF-8 may be anything
    return text.encode("utf-8", "surrogatepass")


def _h(algorithm: str, text: str) -> str:
    fn = hashlib.sha256 if algorithm.upper().startswith("SHA-256") else hashlib.md5
    return fn(_b(text)).hexdigest()


def digest_response(
    algorithm: str,
    user: str,
    realm: str,
    password: str,
    method: str,
    uri: str,
    nonce: str,
    nc: str | None = None,
    cnonce: str = "",
) -> str:
    """The `response` of a Digest answer (RFC 2617/7616): with a nonce count `nc`, qop=auth;
    without, RFC 2069."""
    ha1 = _h(algorithm, f"{user}:{realm}:{password}")
    ha2 = _h(algorithm, f"{method}:{uri}")
    if nc is None:
        return _h(algorithm, f"{ha1}:{nonce}:{ha2}")
    return _h(algorithm, f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")


def parse_challenge(value: str) -> dict[str, str]:
    """A WWW-Authenticate value: {"scheme": "digest" or "basic", its parameters...}."""
    scheme, _, rest = value.strip().partition(" ")
    return {"scheme": scheme.lower(), **parse_digest(rest)}


def answer_challenge(
    challenge: dict[str, str], user: str, password: str, method: str, uri: str, count: int
) -> str:
    """The Authorization a client sends for `challenge` (`parse_challenge`): Basic, or Digest
    MD5 (qop auth when offered); `count` is the request counter (nonce count, client nonce)."""
    if challenge.get("scheme") == "basic":
        return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    fields = {"username": user, "realm": challenge.get("realm", ""),
              "nonce": challenge.get("nonce", ""), "uri": uri}  # fmt: skip
    nc = None
    if "auth" in challenge.get("qop", ""):
        nc = f"{count:08x}"
        fields |= {"qop": "auth", "nc": nc, "cnonce": f"{count:016x}"}
    response = digest_response("MD5", user, fields["realm"], password, method, uri,
                               fields["nonce"], nc, fields.get("cnonce", ""))  # fmt: skip
    quoted = ", ".join(f'{k}="{v}"' if k not in ("nc", "qop") else f"{k}={v}"
                       for k, v in fields.items())  # fmt: skip
    return f'Digest {quoted}, response="{response}", algorithm=MD5'


class AuthCheck(enum.Enum):
    """What a request's credentials are worth."""

    OK = "ok"
    DENIED = "denied"
    STALE = "stale"  # the right digest on an expired nonce: retry with a new one


@dataclass
class Authenticator:
    """Checks the Authorization header of a request against one user and password."""

    user: str
    password: str
    scheme: str = "digest"  # basic | digest
    realm: str = "camsim"
    nonce_ttl_s: float = 3600.0
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(16))
    max_nonces: int = 10_000
    # nonce → highest nc seen, least recently used first; serials up to _floor may have
    # fallen out of it
    _counts: OrderedDict[str, int] = field(default_factory=OrderedDict, init=False, repr=False)
    _floor: int = field(default=-1, init=False, repr=False)
    _issued: int = field(default=0, init=False, repr=False)

    def challenges(self, stale: bool = False, bind: str = "") -> list[str]:
        """WWW-Authenticate values for a 401 answer on the connection named `bind`."""
        if self.scheme == "basic":
            return [f'Basic realm="{self.realm}"']
        nonce = self._nonce(bind)
        # MD5 only in the challenge: ffmpeg-based clients take the last challenge they see and
        # know no other algorithm; SHA-256 answers are still accepted.
        extra = ", stale=true" if stale else ""
        return [f'Digest realm="{self.realm}", nonce="{nonce}", algorithm=MD5, qop="auth"{extra}']

    def _nonce(self, bind: str, stamp: int | None = None) -> str:
        # a serial number per challenge: clients challenged in the same second count their nc
        # apart, and what fell out of the table is told from what came after
        self._issued += 1
        head = f"{int(time.time()) if stamp is None else stamp:08x}{self._issued & 0xFFFFFFFF:08x}"
        return head + self._sign(head, bind)

    def _sign(self, head: str, bind: str) -> str:
        return hmac.new(self.secret, _b(f"{head}/{bind}"), hashlib.sha256).hexdigest()[:16]

    def _nonce_age(self, nonce: str, bind: str) -> float | None:
        """Seconds since this server issued the nonce on this connection, or None if it did
        not (`nonce` matches _NONCE)."""
        if not hmac.compare_digest(nonce[16:].encode(), self._sign(nonce[:16], bind).encode()):
            return None
        return time.time() - int(nonce[:8], 16)

    def check(self, method: str, uri: str, authorization: str | None, bind: str = "") -> AuthCheck:
        """What the Authorization header is worth for `method` on the request URL `uri`, on
        the connection named `bind`."""
        if not authorization:
            return AuthCheck.DENIED
        scheme, _, value = authorization.strip().partition(" ")
        if self.scheme == "basic" and scheme.lower() == "basic":
            return self._basic(value.strip())
        if self.scheme == "digest" and scheme.lower() == "digest":
            return self._digest(method, uri, parse_digest(value), bind)
        return AuthCheck.DENIED

    def _basic(self, value: str) -> AuthCheck:
        if len(value) > MAX_BASIC:
            return AuthCheck.DENIED
        try:
            raw = base64.b64decode(value, validate=True)
        except ValueError:  # binascii.Error, or a str that is not ASCII
            return AuthCheck.DENIED
        user, _, password = raw.partition(b":")
        ok = hmac.compare_digest(user, _b(self.user)) & hmac.compare_digest(
            password, _b(self.password)
        )
        return AuthCheck.OK if ok else AuthCheck.DENIED

    def _digest(self, method: str, uri: str, p: dict[str, str], bind: str) -> AuthCheck:
        need = ("username", "realm", "nonce", "uri", "response")
        if any(k not in p for k in need) or any(
            len(v) > (MAX_URL if k == "uri" else MAX_FIELD) for k, v in p.items()
        ):
            return AuthCheck.DENIED
        # RFC 7616 3.4.6: the digest is for the resource the request line names
        if p["realm"] != self.realm or p["username"] != self.user or p["uri"] != uri:
            return AuthCheck.DENIED
        if not _NONCE.fullmatch(p["nonce"]):
            return AuthCheck.DENIED
        counted = "qop" in p
        if counted and (
            p["qop"] != "auth" or "cnonce" not in p or not _NC.fullmatch(p.get("nc", ""))
        ):
            return AuthCheck.DENIED
        want = digest_response(p.get("algorithm", "MD5"), self.user, self.realm, self.password,
                               method, p["uri"], p["nonce"], p["nc"] if counted else None,
                               p.get("cnonce", ""))  # fmt: skip
        if not hmac.compare_digest(_b(want), _b(p["response"].lower())):
            return AuthCheck.DENIED
        # the right credentials from here on: a nonce that is not this connection's, expired
        # or forgotten is stale (whoever knows the password may ask for a new one)
        nonce = p["nonce"]
        age = self._nonce_age(nonce, bind)
        if (
            age is None
            or not -5 <= age <= self.nonce_ttl_s
            or (nonce not in self._counts and int(nonce[8:16], 16) <= self._floor)
        ):
            return AuthCheck.STALE
        if counted and not self._count(nonce, int(p["nc"], 16)):
            return AuthCheck.DENIED  # a replay, or an older count
        return AuthCheck.OK

    def _count(self, nonce: str, nc: int) -> bool:
        """Record a nonce count; False if it is not above the highest seen with this nonce."""
        if nc <= self._counts.get(nonce, 0):
            return False
        self._counts[nonce] = nc
        self._counts.move_to_end(nonce)
        while len(self._counts) > self.max_nonces:
            old, _ = self._counts.popitem(last=False)
            self._floor = max(self._floor, int(old[8:16], 16))
        return True
