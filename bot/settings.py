"""Configuration from the environment or a `.env` file (README's configuration table), checked at once.

Every bad value is reported together, each with what to set instead; a secret's value is never shown.
A `.env` file is read by python-dotenv: `KEY=value  # note` keeps only `value`, quotes and `export ` work.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict

DEFAULT_API_URL = "https://slack.com/api/"
BOT_TOKEN_WHERE = "api.slack.com/apps → your app → OAuth & Permissions → Bot User OAuth Token (xoxb-…)"
APP_TOKEN_WHERE = "api.slack.com/apps → your app → Basic Information → App-Level Tokens (xapp-…, scope connections:write)"
SECRETS = frozenset({"bot_token", "signing_secret", "app_token"})


def default_data_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where mktbot keeps its SQLite database unless told otherwise: $MKTBOT_DATA_DIR, else
    $XDG_DATA_HOME/mktbot, else ~/.local/share/mktbot (never the directory it happens to be started in)."""
    env = os.environ if env is None else env
    if env.get("MKTBOT_DATA_DIR"):
        return Path(env["MKTBOT_DATA_DIR"]).expanduser()
    base = env.get("XDG_DATA_HOME") or str(Path("~/.local/share").expanduser())
    return Path(base).expanduser() / "mktbot"


class ConfigError(SystemExit):
    """Settings that cannot work; the message lists every problem (exits with status 1)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("mktbot cannot start; fix the configuration (environment or .env):\n"
                         + "\n".join(f"  - {p}" for p in problems))


def _alias(name: str, env: str) -> Any:
    return AliasChoices(env, name)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=None, env_ignore_empty=True, extra="ignore", frozen=True, populate_by_name=True,
        case_sensitive=True,
    )

    bot_token: str | None = Field(None, validation_alias=_alias("bot_token", "SLACK_BOT_TOKEN"), repr=False)
    signing_secret: str | None = Field(None, validation_alias=_alias("signing_secret", "SLACK_SIGNING_SECRET"),
                                       repr=False)
    app_token: str | None = Field(None, validation_alias=_alias("app_token", "SLACK_APP_TOKEN"), repr=False)
    api_url: str = Field(DEFAULT_API_URL, validation_alias=_alias("api_url", "SLACK_API_URL"))
    data_dir: Path = Field(default_factory=default_data_dir, validation_alias=_alias("data_dir", "MKTBOT_DATA_DIR"))
    database_url: str = Field("", validation_alias=_alias("database_url", "DATABASE_URL"))
    timezone: str = Field("UTC", validation_alias=_alias("timezone", "MKTBOT_TIMEZONE"))
    listener_threads: int = Field(32, ge=1, le=512, validation_alias=_alias("listener_threads", "MKTBOT_LISTENER_THREADS"))
    log_format: Literal["text", "json"] = Field("text", validation_alias=_alias("log_format", "MKTBOT_LOG_FORMAT"))

    @field_validator("bot_token")
    @classmethod
    def _bot_token_kind(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        if value.startswith("xapp-"):
            raise ValueError(f"this is an app-level token (xapp-…), which belongs in SLACK_APP_TOKEN; the bot "
                             f"token starts with xoxb-: copy it from {BOT_TOKEN_WHERE}")
        if value.startswith("xoxp-"):
            raise ValueError(f"this is a user token (xoxp-…); the bot token starts with xoxb-: copy it from {BOT_TOKEN_WHERE}")
        if not value.startswith("xoxb-"):
            raise ValueError(f"a bot token starts with xoxb-: copy it from {BOT_TOKEN_WHERE}")
        return value

    @field_validator("app_token")
    @classmethod
    def _app_token_kind(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        if value.startswith("xoxb-"):
            raise ValueError("this is the bot token (xoxb-…), which belongs in SLACK_BOT_TOKEN; the app-level "
                             f"token starts with xapp-: create one at {APP_TOKEN_WHERE}")
        if not value.startswith("xapp-"):
            raise ValueError(f"an app-level token starts with xapp-: create one at {APP_TOKEN_WHERE}")
        return value

    @field_validator("signing_secret")
    @classmethod
    def _strip(cls, value: str | None) -> str | None:
        return value.strip() if value is not None else None

    @field_validator("api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("an http(s) URL ending in /api/, e.g. https://slack.com/api/")
        return value if value.endswith("/") else value + "/"

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("not an IANA time zone (try Asia/Shanghai, Europe/Berlin or UTC)") from exc
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if value and "://" not in value:
            raise ValueError("a SQLAlchemy URL, e.g. sqlite:////var/lib/mktbot/mktbot.db or "
                             "postgresql+psycopg://user@host/mktbot")
        return value

    def model_post_init(self, context: Any) -> None:
        if not self.database_url:
            object.__setattr__(self, "database_url", f"sqlite:///{self.data_dir / 'mktbot.db'}")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def has_slack_credentials(self) -> bool:
        return bool(self.bot_token and (self.signing_secret or self.app_token))

    @property
    def uses_default_database(self) -> bool:
        return self.database_url == f"sqlite:///{self.data_dir / 'mktbot.db'}"

    def ensure_data_dir(self) -> None:
        """Create the data directory when the database is the default one in it."""
        if self.uses_default_database:
            self.data_dir.mkdir(parents=True, exist_ok=True)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Settings(...) built in code holds what it is given; only from_env reads the environment and .env.
        source = _SOURCE.get()
        if source is _DIRECT:
            return (init_settings,)
        env = env_settings if source is None else _MappingSource(settings_cls, source)
        return init_settings, env, dotenv_settings

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, dotenv: Path | None = Path(".env")) -> Settings:
        """The environment (or `env`) over the `.env` file; raises ConfigError listing every bad value."""
        try:
            with _given_env(env):
                return cls(_env_file=dotenv if dotenv is not None and dotenv.is_file() else None)  # type: ignore[call-arg]
        except ValidationError as exc:
            raise ConfigError([_describe(error) for error in exc.errors()]) from None


_ENV_NAMES = {name: str(field.validation_alias.choices[0])  # type: ignore[union-attr]
              for name, field in Settings.model_fields.items()}


def _describe(error: Any) -> str:
    """One problem, named by its variable; a secret's value is never repeated."""
    field = str(error["loc"][0]) if error.get("loc") else ""
    name = next((env for f, env in _ENV_NAMES.items() if field in (f, env)), field)
    message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    secret = any(field in (f, _ENV_NAMES[f]) for f in SECRETS)
    if secret or "input" not in error:
        return f"{name}: {message}"
    return f"{name}={error['input']!r}: {message}"


_DIRECT: Mapping[str, str] = {}  # the sentinel: built in code, from its arguments only
#: where from_env reads variables: None for os.environ, else the mapping it was given
_SOURCE: ContextVar[Mapping[str, str] | None] = ContextVar("mktbot_settings_source", default=_DIRECT)


@contextmanager
def _given_env(env: Mapping[str, str] | None) -> Iterator[None]:
    token = _SOURCE.set(env)
    try:
        yield
    finally:
        _SOURCE.reset(token)


class _MappingSource(EnvSettingsSource):
    """The environment source reading a given mapping instead of os.environ (`Settings.from_env(env=…)`)."""

    def __init__(self, settings_cls: type[BaseSettings], env: Mapping[str, str]) -> None:
        self._given = dict(env)
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return self._given
