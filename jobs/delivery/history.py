"""Finding a post whose answer was lost: every post carries its outbox id in its message metadata, and before
a post whose fate is unknown is sent again, the channel's history (or the thread's replies) is searched for it."""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from slack_sdk.errors import SlackApiError

from jobs.delivery.claims import Item
from jobs.delivery.transport import Sender

log = logging.getLogger(__name__)

METADATA_EVENT = "mktbot_post"
HISTORY_PAGES = 10  # pages of history searched for an ambiguous post


def metadata(item: Item) -> dict[str, Any]:
    """The message metadata that lets `find_posted` recognise the post."""
    return {"event_type": METADATA_EVENT, "event_payload": {"outbox_id": str(item.id)}}


class HistoryUnavailable(Exception):
    """The history could not be read for now; whether the post is in Slack is still unknown."""


async def find_posted(sender: Sender, item: Item, channel: str) -> str | None:
    """After an ambiguous failure, look for the post by the outbox id in its message metadata.

    Returns its ts, or None when it is not there (or the history cannot ever be read, e.g. missing_scope).
    Raises HistoryUnavailable for a passing failure (rate limit, 5xx, network): then nothing may be posted."""
    oldest = f"{item.created_at.timestamp() - 120:.6f}"
    cursor: str | None = None
    for _ in range(HISTORY_PAGES):
        args: dict[str, Any] = {"channel": channel, "include_all_metadata": True, "oldest": oldest, "limit": 200}
        if cursor:
            args["cursor"] = cursor
        try:
            if item.thread_ts:
                response = await sender.call(partial(sender.client.conversations_replies, ts=item.thread_ts, **args))
            else:
                response = await sender.call(partial(sender.client.conversations_history, **args))
        except SlackApiError as exc:
            if exc.response.status_code == 429 or exc.response.status_code >= 500:
                raise HistoryUnavailable(f"HTTP {exc.response.status_code}") from exc
            log.warning("could not check history of %s: %s", channel, exc.response.get("error"))
            return None
        except Exception as exc:
            raise HistoryUnavailable(f"{type(exc).__name__}: {exc}") from exc
        for message in response.get("messages") or []:
            metadata = message.get("metadata") or {}
            payload = metadata.get("event_payload") or {}
            if metadata.get("event_type") == METADATA_EVENT and str(payload.get("outbox_id")) == str(item.id):
                return str(message.get("ts"))
        cursor = (response.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return None
    raise HistoryUnavailable(f"more than {HISTORY_PAGES} pages of history to search")
