"""Configuration from the environment or a `.env` file (PRODUCT.md's table)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_API_URL = "https://slack.com/api/"


def read_dotenv(path: Path) -> dict[str, str]:
    """Parse KEY=VALUE lines; `#` comments, `export ` prefixes and quotes are allowed."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


@dataclass(frozen=True)
class Settings:
    bot_token: str | None = None
    signing_secret: str | None = None
    app_token: str | None = None
    api_url: str = DEFAULT_API_URL
    database_url: str = "sqlite:///mktbot.db"
    timezone: str = "UTC"
    listener_threads: int = 32
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def has_slack_credentials(self) -> bool:
        return bool(self.bot_token and (self.signing_secret or self.app_token))

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, dotenv: Path | None = Path(".env")) -> Settings:
        merged: dict[str, str] = {}
        if dotenv is not None:
            merged.update(read_dotenv(dotenv))
        merged.update(os.environ if env is None else env)
        timezone = merged.get("MKTBOT_TIMEZONE") or "UTC"
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise SystemExit(f"MKTBOT_TIMEZONE={timezone!r} is not an IANA time zone (try Asia/Shanghai).") from exc
        api_url = merged.get("SLACK_API_URL") or DEFAULT_API_URL
        if not api_url.endswith("/"):
            api_url += "/"
        return cls(
            bot_token=merged.get("SLACK_BOT_TOKEN") or None,
            signing_secret=merged.get("SLACK_SIGNING_SECRET") or None,
            app_token=merged.get("SLACK_APP_TOKEN") or None,
            api_url=api_url,
            database_url=merged.get("DATABASE_URL") or "sqlite:///mktbot.db",
            timezone=timezone,
            listener_threads=int(merged.get("MKTBOT_LISTENER_THREADS") or 32),
        )
