"""Slack request signing (v0), the way Slack signs requests it sends to an app.

    basestring = "v0:" + X-Slack-Request-Timestamp + ":" + raw_body
    X-Slack-Signature = "v0=" + hex(HMAC-SHA256(key=signing_secret, msg=basestring))

Receivers reject timestamps more than 300 s away from their clock (replay window).
"""

from __future__ import annotations

import hashlib
import hmac
import time

__all__ = ["REPLAY_WINDOW_SECONDS", "sign", "signed_headers", "verify"]

REPLAY_WINDOW_SECONDS = 300


def _as_bytes(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode("utf-8")


def sign(signing_secret: str, timestamp: str, body: str | bytes) -> str:
    """Return the `X-Slack-Signature` value for `body` sent at `timestamp` (seconds, as a string)."""
    basestring = b"v0:" + _as_bytes(str(timestamp)) + b":" + _as_bytes(body)
    digest = hmac.new(_as_bytes(signing_secret), basestring, hashlib.sha256).hexdigest()
    return f"v0={digest}"


def signed_headers(signing_secret: str, body: str | bytes, *, timestamp: str | None = None) -> dict[str, str]:
    """The two headers Slack adds to every request it sends to an app."""
    ts = timestamp if timestamp is not None else str(int(time.time()))
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sign(signing_secret, ts, body)}


def verify(
    signing_secret: str,
    timestamp: str | None,
    body: str | bytes,
    signature: str | None,
    *,
    now: float | None = None,
    tolerance: int = REPLAY_WINDOW_SECONDS,
) -> bool:
    """Constant-time check of a signature, rejecting stale timestamps like Slack's SDKs do."""
    if not timestamp or not signature:
        return False
    try:
        ts = int(timestamp)
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - ts) > tolerance:
        return False
    return hmac.compare_digest(sign(signing_secret, timestamp, body), signature)
