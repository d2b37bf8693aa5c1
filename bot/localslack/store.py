"""What a local Slack keeps across restarts (the playground's): channel history with its threads, edits and
reactions, the files shared in it (their bytes too), the app's DM channels, and the id and ts counters.

One SQLite file (stdlib sqlite3), written by one saver thread: every change the workspace announces (its
condition's `notify_all`) marks the state dirty, and the saver writes what changed a moment later, in one
transaction; `close()` writes the last changes. Ephemeral messages, views, response URLs and the recorded
traffic are not kept: Slack forgets them too (or they only serve tests).

    store = SlackStore(path)
    store.attach(slack)        # after slack.start(): loads what the file holds, then keeps it up to date
    ...
    store.close()              # a final write
"""

from __future__ import annotations

import dataclasses
import json
import logging
import sqlite3
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.localslack.records import Channel, File, Message
from bot.localslack.workspace import ts_order

if TYPE_CHECKING:
    from bot.localslack.workspace import Workspace

log = logging.getLogger(__name__)

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS messages (channel TEXT NOT NULL, ts TEXT NOT NULL, body TEXT NOT NULL, "
    "PRIMARY KEY (channel, ts))",
    "CREATE TABLE IF NOT EXISTS files (id TEXT PRIMARY KEY, body TEXT NOT NULL, content BLOB)",
    "CREATE TABLE IF NOT EXISTS ims (user_id TEXT PRIMARY KEY, body TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
)
DEBOUNCE = 0.3  # seconds between a change and its write: a burst of posts is written once


class SlackStore:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._slack: Workspace | None = None
        self._dirty = threading.Event()
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None
        self._write_lock = threading.Lock()
        # what the file holds, to write only what changed
        self._saved_messages: dict[tuple[str, str], str] = {}
        self._saved_files: dict[str, str] = {}
        self._saved_content: set[str] = set()
        self._saved_ims: dict[str, str] = {}
        with self._connect() as conn:
            for statement in SCHEMA:
                conn.execute(statement)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        return conn

    # ---- meta: small values the owner keeps beside the history ----------------------------------------

    def get_meta(self, key: str) -> str | None:
        conn = self._connect()
        try:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        finally:
            conn.close()
        return str(row[0]) if row else None

    def set_meta(self, key: str, value: str) -> None:
        conn = self._connect()
        try:
            with conn:
                conn.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = "
                             "excluded.value", (key, value))
        finally:
            conn.close()

    def is_empty(self) -> bool:
        conn = self._connect()
        try:
            return conn.execute("SELECT 1 FROM messages LIMIT 1").fetchone() is None
        finally:
            conn.close()

    # ---- loading and saving -------------------------------------------------------------------------

    def attach(self, slack: Workspace) -> None:
        """Load the file into `slack` (started, so its files' URLs name its port), then keep the file in step."""
        self._load(slack)
        self._slack = slack
        slack.on_change = self._dirty.set
        self._thread = threading.Thread(target=self._run, name=f"localslack-store:{self.path.name}", daemon=True)
        self._thread.start()

    def _load(self, slack: Workspace) -> None:
        conn = self._connect()
        try:
            messages = [(c, ts, body) for c, ts, body in conn.execute("SELECT channel, ts, body FROM messages")]
            files = list(conn.execute("SELECT id, body, content FROM files"))
            ims = list(conn.execute("SELECT user_id, body FROM ims"))
            meta = dict(conn.execute("SELECT key, value FROM meta"))
        finally:
            conn.close()
        loaded_files: dict[str, File] = {}
        for fid, body, content in files:
            fields = json.loads(body)
            fields["shares"] = [tuple(s) for s in fields.get("shares") or []]
            loaded_files[fid] = File(**fields, content=bytes(content) if content is not None else None)
            self._saved_files[fid] = body
            if content is not None:
                self._saved_content.add(fid)
        loaded: list[Message] = []
        for channel, ts, body in messages:
            loaded.append(Message(**json.loads(body)))
            self._saved_messages[(channel, ts)] = body
        loaded.sort(key=lambda m: ts_order(m.ts))
        with slack._lock:
            slack.files.update(loaded_files)
            for user_id, body in ims:
                channel = Channel(**json.loads(body))
                slack._ims[user_id] = channel.id
                slack._channels[channel.id] = channel
                self._saved_ims[user_id] = body
            for m in loaded:  # the file objects as this server serves them now (its port may have changed)
                m.files = [slack._file_json(slack.files[f["id"]]) if f.get("id") in slack.files else f  # type: ignore[attr-defined]
                           for f in m.files]
            slack.messages[:0] = loaded
            slack.messages.sort(key=lambda m: ts_order(m.ts))
            slack._counter = max(slack._counter, int(meta.get("counter", 0)))
            slack._last_ts_micros = max(slack._last_ts_micros, int(meta.get("last_ts_micros", 0)))
        if loaded or loaded_files:
            log.info("local Slack: %d messages and %d files loaded from %s", len(loaded), len(loaded_files), self.path)

    def _run(self) -> None:
        while not self._closing.is_set():
            if not self._dirty.wait(timeout=1.0):
                continue
            if self._closing.wait(DEBOUNCE):
                break
            try:
                self.save()
            except Exception:  # the next change tries again; the playground keeps going
                log.exception("could not save the local Slack's history to %s", self.path)

    def save(self) -> None:
        """Write what changed since the last write (one transaction)."""
        slack = self._slack
        if slack is None:
            return
        with self._write_lock:
            self._dirty.clear()
            with slack._lock:
                messages = {
                    (m.channel, m.ts): json.dumps(dataclasses.asdict(m), ensure_ascii=False, default=str)
                    for m in slack.messages
                    if m.ephemeral_user is None and not m.deleted
                }
                kept = [f for f in slack.files.values() if f.completed]
                files = {f.id: json.dumps(_file_fields(f), ensure_ascii=False) for f in kept}
                contents = {f.id: f.content for f in kept if f.id not in self._saved_content and f.content is not None}
                ims = {
                    user_id: json.dumps(dataclasses.asdict(slack._channels[cid]), ensure_ascii=False)
                    for user_id, cid in slack._ims.items()
                    if cid in slack._channels
                }
                meta = {"counter": str(slack._counter), "last_ts_micros": str(slack._last_ts_micros)}
            changed = [(c, ts, body) for (c, ts), body in messages.items() if self._saved_messages.get((c, ts)) != body]
            gone = [key for key in self._saved_messages if key not in messages]
            changed_files = [(fid, body) for fid, body in files.items() if self._saved_files.get(fid) != body]
            changed_ims = [(u, body) for u, body in ims.items() if self._saved_ims.get(u) != body]
            conn = self._connect()
            try:
                with conn:
                    conn.executemany("DELETE FROM messages WHERE channel = ? AND ts = ?", gone)
                    conn.executemany(
                        "INSERT INTO messages (channel, ts, body) VALUES (?, ?, ?) "
                        "ON CONFLICT(channel, ts) DO UPDATE SET body = excluded.body", changed)
                    conn.executemany(
                        "INSERT INTO files (id, body) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET body = excluded.body",
                        changed_files)
                    conn.executemany("UPDATE files SET content = ? WHERE id = ?",
                                     [(content, fid) for fid, content in contents.items()])
                    conn.executemany(
                        "INSERT INTO ims (user_id, body) VALUES (?, ?) ON CONFLICT(user_id) DO UPDATE SET body = "
                        "excluded.body", changed_ims)
                    conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET "
                                     "value = excluded.value", list(meta.items()))
            finally:
                conn.close()
            for key in gone:
                del self._saved_messages[key]
            self._saved_messages.update({(c, ts): body for c, ts, body in changed})
            self._saved_files.update(changed_files)
            self._saved_content.update(contents)
            self._saved_ims.update(changed_ims)

    def close(self) -> None:
        """Stop the saver and write the last changes."""
        self._closing.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        if self._slack is not None:
            try:
                self.save()
            finally:
                self._slack.on_change = None
                self._slack = None


def _file_fields(f: File) -> dict[str, Any]:
    fields = dataclasses.asdict(f)
    del fields["content"]
    return fields
