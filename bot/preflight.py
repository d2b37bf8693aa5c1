"""What is checked before the bot serves anyone: the token (auth.test), its scopes against the manifest's,
the database, its migrations and the zone. `mktbot run`/`serve` stop on a rejected token; `mktbot check`
prints every problem it finds."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.settings import BOT_TOKEN_WHERE, Settings

log = logging.getLogger(__name__)

MANIFEST = Path(__file__).resolve().parent.parent / "manifest.json"

#: auth.test answers that no retry changes: the token itself is refused
REJECTED_TOKEN = frozenset({"invalid_auth", "token_revoked", "account_inactive", "not_authed", "token_expired"})

_WHY = {
    "invalid_auth": "Slack does not know this token (a typo, a token of another app, or one cut short)",
    "not_authed": "no token reached Slack",
    "token_revoked": "the token was revoked (the app was uninstalled or its token regenerated)",
    "token_expired": "the token has expired (token rotation is on; turn it off or use a fresh token)",
    "account_inactive": "the token belongs to a deactivated user or an uninstalled app",
}


class StartupError(SystemExit):
    """A problem that stops `mktbot run`/`serve` before they serve anything (exit status 1)."""


def rejected_token_message(error: str) -> str:
    why = _WHY.get(error, "Slack refused the token")
    reinstall = " Reinstall the app to the workspace first (OAuth & Permissions → Reinstall to Workspace)." \
        if error in ("token_revoked", "account_inactive", "token_expired") else ""
    return (f"Slack rejected SLACK_BOT_TOKEN ({error}): {why}.{reinstall}\n"
            f"Copy the Bot User OAuth Token from {BOT_TOKEN_WHERE} and set SLACK_BOT_TOKEN to it "
            "(in the environment or .env).")


@dataclass
class Identity:
    team_id: str | None
    user_id: str | None
    bot_id: str | None
    scopes: frozenset[str] | None  # None: Slack sent no x-oauth-scopes header
    data: dict[str, Any] = field(default_factory=dict)


def startup_client(settings: Settings, *, attempts: int = 3) -> WebClient:
    """A client for auth.test alone, which is safe to repeat: it retries refused or dropped connections,
    5xx answers and 429s."""
    retries = max(attempts - 1, 0)
    return WebClient(
        token=settings.bot_token, base_url=settings.api_url, timeout=10,
        retry_handlers=[ConnectionErrorRetryHandler(max_retry_count=retries),
                        ServerErrorRetryHandler(max_retry_count=retries),
                        RateLimitErrorRetryHandler(max_retry_count=retries)],
    )


def auth_test(settings: Settings, *, client: WebClient | None = None) -> Identity:
    """auth.test with the configured bot token; a StartupError saying what to fix when it cannot pass."""
    client = client or startup_client(settings)
    try:
        response = client.auth_test()
    except SlackApiError as exc:
        error = str(exc.response.get("error") or f"HTTP {exc.response.status_code}")
        if error in REJECTED_TOKEN:
            raise StartupError(rejected_token_message(error)) from None
        raise StartupError(f"auth.test failed at {settings.api_url} ({error}); check SLACK_API_URL and Slack's "
                           "status, then start again.") from None
    except Exception as exc:
        raise StartupError(f"Could not reach Slack at {settings.api_url} for auth.test ({type(exc).__name__}: {exc}); "
                           "check the network, a proxy or SLACK_API_URL.") from None
    header = next((v for k, v in response.headers.items() if k.lower() == "x-oauth-scopes"), None)
    scopes = frozenset(s.strip() for s in str(header).split(",") if s.strip()) if header is not None else None
    data = dict(response.data) if isinstance(response.data, dict) else {}
    return Identity(team_id=data.get("team_id"), user_id=data.get("user_id"), bot_id=data.get("bot_id"),
                    scopes=scopes, data=data)


def manifest_scopes(path: Path = MANIFEST) -> frozenset[str] | None:
    if not path.is_file():
        return None
    manifest = json.loads(path.read_text(encoding="utf-8"))
    return frozenset(manifest.get("oauth_config", {}).get("scopes", {}).get("bot", []))


def verify_startup(settings: Settings) -> Identity:
    """What `run`/`serve` check before listening: the token works (the scopes only warn)."""
    identity = auth_test(settings)
    wanted = manifest_scopes()
    if wanted is not None and identity.scopes is not None and (missing := sorted(wanted - identity.scopes)):
        log.warning("the bot token lacks scopes the manifest asks for: %s (add them under OAuth & Permissions → "
                    "Scopes, then reinstall the app)", ", ".join(missing))
    log.info("auth.test: bot %s in team %s", identity.user_id, identity.team_id)
    return identity


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


def run_checks(settings: Settings, *, manifest: Path = MANIFEST) -> list[Check]:
    """Every check `mktbot check` prints, in order; none stops the others."""
    checks: list[Check] = []
    checks.append(Check("zone", True, f"MKTBOT_TIMEZONE={settings.timezone}"))
    if not settings.bot_token:
        checks.append(Check("token", False, f"SLACK_BOT_TOKEN is not set: copy it from {BOT_TOKEN_WHERE}"))
    else:
        try:
            identity = auth_test(settings)
        except StartupError as exc:
            checks.append(Check("token", False, str(exc.code)))
        else:
            checks.append(Check("token", True, f"bot {identity.user_id} in team {identity.team_id}"))
            wanted = manifest_scopes(manifest)
            if wanted is None:
                checks.append(Check("scopes", False, f"no manifest at {manifest} to compare the scopes with"))
            elif identity.scopes is None:
                checks.append(Check("scopes", False, "auth.test sent no x-oauth-scopes header"))
            elif missing := sorted(wanted - identity.scopes):
                checks.append(Check("scopes", False, f"missing {', '.join(missing)}: add them under OAuth & "
                                    "Permissions → Scopes → Bot Token Scopes, then reinstall the app"))
            else:
                checks.append(Check("scopes", True, f"all {len(wanted)} of the manifest's scopes are granted"))
    if not (settings.signing_secret or settings.app_token):
        checks.append(Check("secrets", False, "neither SLACK_SIGNING_SECRET (HTTP) nor SLACK_APP_TOKEN (Socket Mode) "
                            "is set: copy the Signing Secret from Basic Information → App Credentials"))
    checks.extend(database_checks(settings))
    return checks


def database_checks(settings: Settings) -> list[Check]:
    from alembic.script import ScriptDirectory
    from sqlalchemy import text

    from storage.db import make_engine
    from storage.migrate import alembic_config, current_revision

    shown = _safe_url(settings.database_url)
    try:
        engine = make_engine(settings.database_url)
    except Exception as exc:
        return [Check("database", False, f"{shown}: {exc}")]
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        engine.dispose()
        return [Check("database", False, f"{shown} is not reachable: {type(exc).__name__}: {str(exc).splitlines()[0]}")]
    checks = [Check("database", True, f"{shown} answers")]
    try:
        head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
        current = current_revision(engine)
        if current == head:
            checks.append(Check("migrations", True, f"at head ({head})"))
        else:
            checks.append(Check("migrations", False, f"at {current or 'none'}, head is {head}: run `mktbot db upgrade`"))
    finally:
        engine.dispose()
    return checks


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "DATABASE_URL"
