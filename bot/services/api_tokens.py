"""Bearer tokens for the HTTP API: one workspace each. The secret (`mkt_…`) is shown once, when the token is
made; only its SHA-256 is stored, so a leaked database does not leak working tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.errors import NotFound, UserError, check_length
from bot.services.refs import ensure_workspace
from storage.models import ApiToken
from storage.types import utcnow

SECRET_PREFIX = "mkt_"
#: the characters of a secret a list shows, to tell tokens apart
SHOWN = 8


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class TokenInfo:
    """What a list shows of a token: never its secret."""

    id: int
    name: str
    prefix: str
    created_by: str | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def _info(token: ApiToken) -> TokenInfo:
    return TokenInfo(token.id, token.name, token.prefix, token.created_by, token.created_at, token.last_used_at,
                     token.revoked_at)


def create_token(session: Session, *, workspace_id: str, name: str, user_id: str | None) -> tuple[TokenInfo, str]:
    """A new token and its secret (returned only here: it cannot be read back)."""
    name = " ".join(name.split())
    if not name:
        raise UserError.of("error.api_token.no_name")
    check_length(name, field="name", limit=100)
    ensure_workspace(session, workspace_id)
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(workspace_id=workspace_id, name=name, token_hash=hash_secret(secret),
                     prefix=secret[: len(SECRET_PREFIX) + SHOWN], created_by=user_id, created_at=utcnow())
    session.add(token)
    session.flush()
    return _info(token), secret


def list_tokens(session: Session, *, workspace_id: str) -> list[TokenInfo]:
    rows = session.scalars(select(ApiToken).where(ApiToken.workspace_id == workspace_id).order_by(ApiToken.id))
    return [_info(t) for t in rows]


def revoke_token(session: Session, *, workspace_id: str, token_id: int) -> TokenInfo:
    """Revoke a token of this workspace (at once: its next request is refused). Revoking twice is harmless."""
    token = session.scalars(
        select(ApiToken).where(ApiToken.workspace_id == workspace_id, ApiToken.id == token_id)
    ).first()
    if token is None:
        raise NotFound.of("error.api_token.unknown", id=token_id)
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.flush()
    return _info(token)


def authenticate(session: Session, *, secret: str) -> tuple[int, str] | None:
    """(token id, workspace id) of an active token with this secret, or None. The lookup is by the secret's
    hash, so no comparison of secrets can leak their characters through timing."""
    if not secret.startswith(SECRET_PREFIX) or len(secret) > 200:
        return None
    row = session.execute(
        select(ApiToken.id, ApiToken.workspace_id)
        .where(ApiToken.token_hash == hash_secret(secret), ApiToken.revoked_at.is_(None))
    ).first()
    return (int(row.id), str(row.workspace_id)) if row is not None else None


def mark_used(session: Session, *, token_id: int) -> None:
    session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=utcnow()))
