"""RTSP credentials: the server's WWW-Authenticate challenge and the Authorization that
answers it (Basic, or Digest MD5 with qop auth, RFC 2617)."""

from __future__ import annotations

import hashlib
import re
from base64 import b64encode


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()  # noqa: S324 - RTSP Digest is MD5


def challenge(value: str) -> dict[str, str]:
    """A WWW-Authenticate value: {"scheme": "digest" or "basic", its parameters...}."""
    scheme, _, rest = value.strip().partition(" ")
    out = {"scheme": scheme.lower()}
    for m in re.finditer(r'(\w+)=(?:"([^"]*)"|([^\s,]+))', rest):
        out[m.group(1).lower()] = m.group(2) if m.group(2) is not None else m.group(3)
    return out


def authorization(
    c: dict[str, str], user: str, password: str, method: str, uri: str, count: int
) -> str:
    """Basic or Digest (MD5, qop auth) credentials answering challenge `c`; `count` is the
    request counter (nonce count and client nonce)."""
    if c.get("scheme") == "basic":
        return "Basic " + b64encode(f"{user}:{password}".encode()).decode()
    ha1 = _md5(f"{user}:{c.get('realm', '')}:{password}")
    ha2 = _md5(f"{method}:{uri}")
    nc, cnonce = f"{count:08x}", f"{count:016x}"
    fields = {"username": user, "realm": c.get("realm", ""),
              "nonce": c.get("nonce", ""), "uri": uri}  # fmt: skip
    if "auth" in c.get("qop", ""):
        fields |= {"qop": "auth", "nc": nc, "cnonce": cnonce}
        response = _md5(f"{ha1}:{fields['nonce']}:{nc}:{cnonce}:auth:{ha2}")
    else:
        response = _md5(f"{ha1}:{fields['nonce']}:{ha2}")
    quoted = ", ".join(f'{k}="{v}"' if k not in ("nc", "qop") else f"{k}={v}"
                       for k, v in fields.items())  # fmt: skip
    return f'Digest {quoted}, response="{response}", algorithm=MD5'
