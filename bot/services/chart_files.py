"""The latest KPI chart uploaded for each workspace, for the App Home tab.

Charts are uploaded into the weekly report's thread once it is sent (bot.posts.report) and by `/kpi show`
(commands.kpi). After a successful `files_upload_v2` the file id is kept here in process, and the report also
writes it back into its outbox row's payload (`chart_files`), so the Home still finds a chart after a restart, or when the
scheduler runs in another process. No schema change: `latest` takes the newer of the two.
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

from storage.models import Outbox

log = logging.getLogger(__name__)

PAYLOAD_KEY = "chart_files"


@dataclass(frozen=True)
class ChartFile:
    file_id: str
    title: str
    uploaded_at: datetime

    def to_json(self) -> dict[str, str]:
        return {"id": self.file_id, "title": self.title, "uploaded_at": self.uploaded_at.isoformat()}

    @classmethod
    def from_json(cls, data: Any, *, default_time: datetime | None = None) -> ChartFile | None:
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
        return cls(file_id=str(data["id"]), title=str(data.get("title") or ""), uploaded_at=when)


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
    """workspace id -> the newest ChartFile uploaded by this process (thread-safe)."""

    def __init__(self) -> None:
        self._latest: dict[str, ChartFile] = {}
        self._lock = Lock()

    def remember(self, workspace_id: str, chart: ChartFile) -> None:
        with self._lock:
            current = self._latest.get(workspace_id)
            if current is None or chart.uploaded_at >= current.uploaded_at:
                self._latest[workspace_id] = chart

    def get(self, workspace_id: str) -> ChartFile | None:
        with self._lock:
            return self._latest.get(workspace_id)

    def clear(self) -> None:
        with self._lock:
            self._latest.clear()


LATEST = LatestCharts()


def remember(workspace_id: str, file_id: str, title: str, uploaded_at: datetime) -> ChartFile:
    chart = ChartFile(file_id=file_id, title=title, uploaded_at=uploaded_at)
    LATEST.remember(workspace_id, chart)
    return chart


def persisted(session: Session, workspace_id: str) -> ChartFile | None:
    """The last chart of the most recently sent outbox post that recorded its uploads."""
    row = session.execute(
        select(Outbox.payload, Outbox.sent_at)
        .where(
            Outbox.workspace_id == workspace_id,
            Outbox.status == "sent",
            Outbox.payload.like(f'%"{PAYLOAD_KEY}"%'),
        )
        .order_by(Outbox.sent_at.desc(), Outbox.id.desc())
        .limit(1)
    ).first()
    if row is None or not row[0]:
        return None
    try:
        files = json.loads(row[0]).get(PAYLOAD_KEY) or []
    except (ValueError, AttributeError):
        return None
    charts = [c for c in (ChartFile.from_json(f, default_time=row[1]) for f in files) if c is not None]
    # the last uploaded on a tie (one report's charts share a time), as LatestCharts.remember keeps it
    return max(reversed(charts), key=lambda c: c.uploaded_at) if charts else None


def latest(session: Session | None, workspace_id: str) -> ChartFile | None:
    """The newest chart known for the workspace: this process's uploads or the last report's, whichever is newer."""
    found = LATEST.get(workspace_id)
    if session is not None:
        try:
            stored = persisted(session, workspace_id)
        except Exception:  # the Home must still publish without its chart
            log.exception("could not read the latest chart of %s", workspace_id)
            stored = None
        if stored is not None and (found is None or stored.uploaded_at > found.uploaded_at):
            found = stored
    return found
