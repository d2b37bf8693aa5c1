"""The team's language: what the bot's channel posts (digest, report, retrospectives, alerts, announcements,
charts) are written in. Replies to one person follow that person's Slack language instead (bot.locale).

Resolution for a channel: its own setting, else the workspace's, else `auto`. `auto` is the workspace's
Slack language (workspaces.locale) when known, else English."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.errors import UserError
from bot.i18n import DEFAULT_LOCALE, normalize
from bot.services.refs import ensure_workspace
from storage.models import PostLanguage, Workspace
from storage.types import utcnow

WORKSPACE = "*"
AUTO = "auto"
CHOICES = {"zh-cn": "zh-CN", "zh": "zh-CN", "中文": "zh-CN", "简体中文": "zh-CN", "en": "en", "english": "en",
           "英文": "en", "auto": AUTO, "自动": AUTO}


@dataclass(frozen=True)
class Setting:
    channel: str | None  # None: the workspace
    language: str  # zh-CN | en | auto


def parse_language(text: str) -> str:
    choice = CHOICES.get(text.strip().lower())
    if choice is None:
        raise UserError.of("error.language", value=text.strip())
    return choice


def set_language(session: Session, *, workspace_id: str, channel: str | None, language: str, user_id: str | None) -> None:
    key = channel or WORKSPACE
    ensure_workspace(session, workspace_id)
    row = session.scalars(
        select(PostLanguage).where(PostLanguage.workspace_id == workspace_id, PostLanguage.slack_channel_id == key)
    ).first()
    if row is None:
        session.add(PostLanguage(workspace_id=workspace_id, slack_channel_id=key, language=language, set_by=user_id,
                                 set_at=utcnow()))
    else:
        row.language, row.set_by, row.set_at = language, user_id, utcnow()
    session.flush()


def settings(session: Session, *, workspace_id: str) -> list[Setting]:
    rows = session.scalars(select(PostLanguage).where(PostLanguage.workspace_id == workspace_id)
                           .order_by(PostLanguage.slack_channel_id != WORKSPACE, PostLanguage.slack_channel_id))
    return [Setting(None if r.slack_channel_id == WORKSPACE else r.slack_channel_id, r.language) for r in rows]


def team_language(session: Session, *, workspace_id: str, channel: str | None) -> str:
    """The locale a post to `channel` is written in (see the module's docstring)."""
    chosen = {s.channel: s.language for s in settings(session, workspace_id=workspace_id)}
    language = chosen.get(channel) if channel else None
    if language is None or language == AUTO:
        language = chosen.get(None)
    if language is None or language == AUTO:
        row = session.get(Workspace, workspace_id)
        return normalize(row.locale if row is not None else None) or DEFAULT_LOCALE
    return normalize(language) or DEFAULT_LOCALE
