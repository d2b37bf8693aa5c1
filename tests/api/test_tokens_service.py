"""bot.services.api_tokens on SQLite and PostgreSQL: a secret shown once, stored hashed, scoped, revocable."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from bot.errors import NotFound, UserError
from bot.services import api_tokens
from storage.db import Database
from storage.models import ApiToken


def test_create_list_authenticate_revoke(db: Database, workspace: str) -> None:
    with db.session() as session:
        info, secret = api_tokens.create_token(session, workspace_id=workspace, name="  nightly   sync ", user_id="U1")
    assert secret.startswith("mkt_") and len(secret) > 40 and info.name == "nightly sync"
    with db.session(write=False) as session:
        row = session.scalars(select(ApiToken).where(ApiToken.id == info.id)).one()
        assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest() and secret not in row.prefix
        assert api_tokens.authenticate(session, secret=secret) == (info.id, workspace)
        assert api_tokens.authenticate(session, secret=secret + "x") is None
        assert api_tokens.authenticate(session, secret="xoxb-" + secret) is None
        [listed] = api_tokens.list_tokens(session, workspace_id=workspace)
        assert (listed.id, listed.prefix, listed.active) == (info.id, secret[:12], True)
        assert api_tokens.list_tokens(session, workspace_id=workspace + "X") == []
    with db.session() as session:
        with pytest.raises(NotFound):
            api_tokens.revoke_token(session, workspace_id=workspace + "X", token_id=info.id)
        assert not api_tokens.revoke_token(session, workspace_id=workspace, token_id=info.id).active
        assert not api_tokens.revoke_token(session, workspace_id=workspace, token_id=info.id).active
    with db.session(write=False) as session:
        assert api_tokens.authenticate(session, secret=secret) is None


def test_a_token_needs_a_name(db: Database, workspace: str) -> None:
    with db.session() as session, pytest.raises(UserError):
        api_tokens.create_token(session, workspace_id=workspace, name="   ", user_id=None)
