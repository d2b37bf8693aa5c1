"""The latest KPI chart uploaded for each workspace, for the App Home tab.

Charts are uploaded into the weekly report's thread once it is sent (bot.posts.report) and by `/kpi show`
(commands.kpi). After a successful `files_upload_v2` the file id is kept here in process, and the report also
writes it back into its outbox row's payload (`chart_files`), so the Home still finds a chart after a restart, or when the
scheduler runs in another process. No schema change: `latest` takes the newer of the two.

A chart is drawn in one language (its channel's team language), so each is kept with its locale, and the Home
of a reader shows the latest chart in that reader's language (none rather than one in another language; one
whose language is not known shows to anyone). A report's charts recorded before their locale was kept take
the report's own (its payload's `locale`).
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from threading import Lock
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.i18n import resolve
from storage.models import Outbox

log = logging.getLogger(__name__)

PAYLOAD_KEY = "chart_files"


@dataclass(frozen=True)
class ChartFile:
    file_id: str
    title: str
    uploaded_at: datetime
    locale: str | None = None  # the language it is drawn in; None: not known

    def to_json(self) -> dict[str, str]:
        data = {"id": self.file_id, "title": self.title, "uploaded_at": self.uploaded_at.isoformat()}
        return {**data, "locale": self.locale} if self.locale else data

    @classmethod
    def from_json(
        cls, data: Any, *, default_time: datetime | None = None, default_locale: str | None = None
    ) -> ChartFile | None:
        if not isinstance(data, Mapping) or not data.get("id"):
            return None
        when = default_time
        raw = data.get("uploaded_at")
        if isinstance(raw, str):
            with contextlib.suppress(ValueError):
                when = datetime.fromisoformat(raw)
        if when is None:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        locale = data.get("locale") or default_locale
        return cls(file_id=str(data["id"]), title=str(data.get("title") or ""), uploaded_at=when,
                   locale=resolve(str(locale)) if locale else None)


def file_id_of(response: Any) -> str | None:
    """The file id in a files_upload_v2 answer: `files[0].id` (Slack's completeUploadExternal), or slack_sdk's `file.id`."""
    try:
        files = response.get("files")
        if isinstance(files, list) and files and isinstance(files[0], Mapping) and files[0].get("id"):
            return str(files[0]["id"])
        single = response.get("file")
        if isinstance(single, Mapping) and single.get("id"):
            return str(single["id"])
    except (AttributeError, TypeError, KeyError):
        pass
    return None


class LatestCharts:
    """(workspace id, locale) -> the newest ChartFile uploaded by this process in that language (thread-safe)."""

    def __init__(self) -> None:
        self._latest: dict[str, dict[str | None, ChartFile]] = {}
        self._lock = Lock()

    def remember(self, workspace_id: str, chart: ChartFile) -> None:
        with self._lock:
            by_locale = self._latest.setdefault(workspace_id, {})
            current = by_locale.get(chart.locale)
            if current is None or chart.uploaded_at >= current.uploaded_at:
                by_locale[chart.locale] = chart

    def get(self, workspace_id: str, locale: str | None = None) -> ChartFile | None:
        """The newest chart in `locale` or in no known language (None: in any language)."""
        with self._lock:
            by_locale = self._latest.get(workspace_id) or {}
            wanted = resolve(locale) if locale is not None else None
            charts = [c for key, c in by_locale.items() if wanted is None or key in (wanted, None)]
            return max(charts, key=lambda c: c.uploaded_at, default=None)

    def clear(self) -> None:
        with self._lock:
            self._latest.clear()


LATEST = LatestCharts()


def remember(
    workspace_id: str, file_id: str, title: str, uploaded_at: datetime, *, locale: str | None = None
) -> ChartFile:
    chart = ChartFile(file_id=file_id, title=title, uploaded_at=uploaded_at, locale=resolve(locale) if locale else None)
    LATEST.remember(workspace_id, chart)
    return chart


#: how many of the latest posts with charts are looked through for one in the reader's language
PERSISTED_LOOKBACK = 20


def persisted(session: Session, workspace_id: str, locale: str | None = None) -> ChartFile | None:
    """The last chart of the most recently sent outbox post that recorded its uploads (in `locale`, when given)."""
    rows = session.execute(
        select(Outbox.payload, Outbox.sent_at)
        .where(
            Outbox.workspace_id == workspace_id,
            Outbox.status == "sent",
            Outbox.payload.like(f'%"{PAYLOAD_KEY}"%'),
        )
        .order_by(Outbox.sent_at.desc(), Outbox.id.desc())
        .limit(1 if locale is None else PERSISTED_LOOKBACK)
    ).all()
    wanted = resolve(locale) if locale is not None else None
    for payload, sent_at in rows:
        if not payload:
            continue
        try:
            data = json.loads(payload)
            files = data.get(PAYLOAD_KEY) or []
            post_locale = data.get("locale")
        except (ValueError, AttributeError):
            continue
        charts = [c for c in (ChartFile.from_json(f, default_time=sent_at, default_locale=post_locale) for f in files)
                  if c is not None and (wanted is None or c.locale in (wanted, None))]
        if charts:
            # the last uploaded on a tie (one report's charts share a time), as LatestCharts.remember keeps it
            return max(reversed(charts), key=lambda c: c.uploaded_at)
    return None


def latest(session: Session | None, workspace_id: str, locale: str | None = None) -> ChartFile | None:
    """The newest chart known for the workspace (drawn in `locale`, when given): this process's uploads or the
    last reports', whichever is newer."""
    found = LATEST.get(workspace_id, locale)
    if session is not None:
        try:
            stored = persisted(session, workspace_id, locale)
        except Exception:  # the Home must still publish without its chart
            log.exception("could not read the latest chart of %s", workspace_id)
            stored = None
        if stored is not None and (found is None or stored.uploaded_at > found.uploaded_at):
            found = stored
    return found
