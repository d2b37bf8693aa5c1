"""What every job needs, passed explicitly: database, Slack client, clock, zone, this worker's name and the
kinds of post it delivers."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from slack_sdk import WebClient

from bot.locale import Locales
from bot.posts import PostKind
from bot.posts.kinds import POSTS
from bot.runtime import system_clock
from storage.db import Database


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class JobContext:
    db: Database
    client: WebClient
    zone: ZoneInfo
    clock: Callable[[], datetime] = system_clock
    worker: str = field(default_factory=worker_name)
    per_channel_interval: float = 1.0  # Slack allows about one message per second per channel
    grace_hours: float = 12.0  # a slot missed by more than this is skipped, not sent late
    delivery_senders: int = 64  # Slack requests in flight at once during delivery (one connection each)
    locales: Locales = field(default_factory=Locales)  # people's languages (the app shares its own cache)
    posts: Mapping[str, PostKind] = field(default_factory=lambda: POSTS)  # outbox kind -> its after-sent hooks
