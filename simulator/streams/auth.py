"""Camera credentials: HTTP Basic (RFC 7617) and Digest (RFC 2617/7616, MD5 or SHA-256).

Nonces are stateless: a timestamp signed with a per-server secret, valid for `nonce_ttl_s`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass, field

_PARAM = re.compile(r'\s*([A-Za-z0-9_-]+)\s*=\s*("((?:[^"\\]|\\.)*)"|[^\s,]+)\s*,?')


def parse_digest(value: str) -> dict[str, str]:
    """The key=value pairs of a Digest Authorization header (after the scheme)."""
    out = {}
    for m in _PARAM.finditer(value):
        out[m.group(1).lower()] = m.group(3) if m.group(3) is not None else m.group(2)
    return out


def _h(algorithm: str, text: str) -> str:
    fn = hashlib.sha256 if algorithm.upper().startswith("SHA-256") else hashlib.md5
    return fn(text.encode()).hexdigest()


@dataclass
class Authenticator:
    """Checks the Authorization header of a request against one user and password."""

    user: str
    password: str
    scheme: str = "digest"  # basic | digest
    realm: str = "camsim"
    nonce_ttl_s: float = 3600.0
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(16))

    def challenges(self) -> list[str]:
        """WWW-Authenticate values for a 401 answer."""
        if self.scheme == "basic":
            return [f'Basic realm="{self.realm}"']
        nonce = self._nonce()
        # MD5 only in the challenge: ffmpeg-based clients take the last challenge they see and
        # know no other algorithm; SHA-256 answers are still accepted.
        return [f'Digest realm="{self.realm}", nonce="{nonce}", algorithm=MD5, qop="auth"']

    def _nonce(self, stamp: int | None = None) -> str:
        stamp = int(time.time()) if stamp is None else stamp
        sig = hmac.new(self.secret, str(stamp).encode(), hashlib.sha256).hexdigest()[:16]
        return f"{stamp:x}{sig}"

    def _nonce_ok(self, nonce: str) -> bool:
        try:
            stamp = int(nonce[:-16], 16)
        except ValueError:
            return False
        fresh = 0 <= time.time() - stamp <= self.nonce_ttl_s
        return fresh and hmac.compare_digest(nonce, self._nonce(stamp))

    def check(self, method: str, authorization: str | None) -> bool:
        """True if the header carries this user's valid credentials for `method`."""
        if not authorization:
            return False
        scheme, _, value = authorization.strip().partition(" ")
        if self.scheme == "basic" and scheme.lower() == "basic":
            try:
                user, _, password = (
                    base64.b64decode(value.strip(), validate=True).decode().partition(":")
                )
            except (ValueError, UnicodeDecodeError):
                return False
            return hmac.compare_digest(user, self.user) & hmac.compare_digest(
                password, self.password
            )
        if self.scheme == "digest" and scheme.lower() == "digest":
            p = parse_digest(value)
            need = ("username", "realm", "nonce", "uri", "response")
            if (
                any(k not in p for k in need)
                or p["realm"] != self.realm
                or not self._nonce_ok(p["nonce"])
            ):
                return False
            if p["username"] != self.user:
                return False
            algo = p.get("algorithm", "MD5")
            ha1 = _h(algo, f"{self.user}:{self.realm}:{self.password}")
            ha2 = _h(algo, f"{method}:{p['uri']}")
            if "qop" in p:
                if p["qop"] != "auth" or "nc" not in p or "cnonce" not in p:
                    return False
                want = _h(algo, f"{ha1}:{p['nonce']}:{p['nc']}:{p['cnonce']}:auth:{ha2}")
            else:
                want = _h(algo, f"{ha1}:{p['nonce']}:{ha2}")
            return hmac.compare_digest(want, p["response"].lower())
        return False
