"""Signed one-click links: what to do, for which user and notice, until when, sealed with the secret key.

A token is `action.user.notice.expires.signature`, the signature an HMAC-SHA256 of the rest under a key
derived from `PIB_SECRET_KEY` for this one purpose. Changing any part (another user, another notice, a later
expiry) breaks the signature; the token carries no personal data beyond numeric ids.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime

ACTIONS = {"interested": "i", "not-relevant": "n", "unsubscribe": "u"}
_CODES = {code: action for action, code in ACTIONS.items()}
_URLSAFE = bytes.maketrans(b"+/", b"-_")
_TOKEN = re.compile(r"([inu])\.(\d{1,12})\.(\d{1,12})\.(\d{1,12})\.([A-Za-z0-9_-]{43})")


class LinkError(ValueError):
    """A link that must not be acted on: `invalid` (altered, truncated, foreign) or `expired`."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class LinkClaim:
    action: str
    user_id: int
    notice_id: int | None
    expires: datetime


class LinkSigner:
    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError("LinkSigner: no secret key (links signed with an empty key could be forged by anyone)")
        self._key = hmac.new(secret.encode(), b"pib/links/v1", hashlib.sha256).digest()

    def _signature(self, payload: str) -> str:
        digest = hmac.digest(self._key, payload.encode(), "sha256")
        # URL-safe base64 of 32 bytes: 43 characters and one "=" of padding (a digest run signs 80,000 links)
        return binascii.b2a_base64(digest, newline=False)[:43].translate(_URLSAFE).decode()

    def sign(self, *, action: str, user_id: int, notice_id: int | None, expires: datetime) -> str:
        payload = f"{ACTIONS[action]}.{user_id}.{notice_id or 0}.{int(expires.timestamp())}"
        return f"{payload}.{self._signature(payload)}"

    def verify(self, token: str, *, now: datetime | None = None) -> LinkClaim:
        """The claim of a genuine, unexpired token; `LinkError` otherwise (the signature is checked first)."""
        match = _TOKEN.fullmatch(token or "")
        if match is None:
            raise LinkError("invalid", "malformed link token")
        payload, signature = token.rpartition(".")[0], match.group(5)
        if not hmac.compare_digest(self._signature(payload), signature):
            raise LinkError("invalid", "link signature does not match")
        code, user, notice, expires = match.group(1, 2, 3, 4)
        claim = LinkClaim(
            action=_CODES[code],
            user_id=int(user),
            notice_id=int(notice) or None,
            expires=datetime.fromtimestamp(int(expires), UTC),
        )
        if (now or datetime.now(UTC)) >= claim.expires:
            raise LinkError("expired", f"link expired on {claim.expires:%Y-%m-%d %H:%M} UTC")
        return claim


def link_url(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/l/{token}"
