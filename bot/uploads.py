"""Sharing a file in Slack at most once, and knowing whether it was shared.

`files_upload_v2` is three calls: `files.getUploadURLExternal` reserves a file id, the bytes go to the URL it
returns, and `files.completeUploadExternal` shares the file. Only the last one shows anything to anyone, so it
is the only one that must never be sent twice. `share_file` makes the three calls itself, keeps the reserved
id, sends the completion once, and when its answer is lost (a timeout, a reset, a 5xx) asks `files.info` about
that id whether the share happened instead of sending it again or falling back to something that would show
the same chart twice.
"""

from __future__ import annotations

import logging
import time
import urllib.request
from collections.abc import Mapping
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import RetryHandler
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

log = logging.getLogger(__name__)

#: How often, and how far apart, `files.info` is asked after a lost completion.
CHECKS = 3
CHECK_PAUSE = 0.5


class ShareUnknown(Exception):
    """The completion was sent, its answer was lost and Slack could not be asked: the file may be shared."""

    def __init__(self, file_id: str) -> None:
        super().__init__(f"whether file {file_id} was shared is unknown")
        self.file_id = file_id


def share_file(
    client: WebClient,
    *,
    channel: str,
    content: bytes,
    filename: str,
    title: str,
    thread_ts: str | None = None,
    initial_comment: str | None = None,
    pause: float = CHECK_PAUSE,
) -> str:
    """Upload `content` and share it in `channel` (in the thread of `thread_ts` when given); the file's id.

    Raises `ShareUnknown` when it cannot be told whether the file was shared (the caller must not fall back);
    any other exception (Slack refused, or a step before the completion failed) means nothing was shared."""
    reserved = client.files_getUploadURLExternal(filename=filename, length=len(content))
    file_id, url = str(reserved["file_id"]), str(reserved["upload_url"])
    _send_bytes(url, content, timeout=client.timeout)
    files: list[dict[str, str | None]] = [{"id": file_id, "title": title}]
    once = _without_repeats(client)
    try:
        once.files_completeUploadExternal(
            files=files, channel_id=channel, thread_ts=thread_ts, initial_comment=initial_comment
        )
        return file_id
    except SlackApiError as exc:
        if exc.response.status_code < 500:
            raise  # Slack answered and refused: nothing was shared
        failure: Exception = exc
    except Exception as exc:  # the answer was lost: Slack may have shared it
        failure = exc
    log.warning("the answer to sharing %s in %s was lost (%s); asking Slack", file_id, channel, failure)
    for attempt in range(CHECKS):
        if attempt:
            time.sleep(pause)
        try:
            info = client.files_info(file=file_id)
        except SlackApiError as exc:
            if exc.response.get("error") == "file_not_found":
                break  # reserved but never completed: not shared
            continue
        except Exception:
            continue
        if shared_in(info.get("file"), channel):
            return file_id
        break
    else:
        raise ShareUnknown(file_id) from failure
    # Certainly not shared yet: completing the same reserved file once more cannot show it twice.
    try:
        once.files_completeUploadExternal(
            files=files, channel_id=channel, thread_ts=thread_ts, initial_comment=initial_comment
        )
    except SlackApiError as exc:
        if exc.response.status_code < 500:
            raise
        raise ShareUnknown(file_id) from exc
    except Exception as exc:
        raise ShareUnknown(file_id) from exc
    return file_id


def _without_repeats(client: WebClient) -> WebClient:
    """The same client, minus any retry handler that would repeat a request whose answer was lost (a 429 was
    not acted on, so waiting one out stays)."""
    keep: list[RetryHandler] = [h for h in client.retry_handlers if isinstance(h, RateLimitErrorRetryHandler)]
    return WebClient(
        token=client.token, base_url=client.base_url, timeout=client.timeout, ssl=client.ssl, proxy=client.proxy,
        headers=client.headers, retry_handlers=keep, logger=client.logger,
    )


def shared_in(file: Any, channel: str) -> bool:
    """Whether a `files.info` file object shows a share in `channel` (public, private or a DM)."""
    if not isinstance(file, Mapping):
        return False
    for key in ("channels", "groups", "ims"):
        if channel in (file.get(key) or []):
            return True
    shares = file.get("shares")
    if isinstance(shares, Mapping):
        return any(isinstance(part, Mapping) and channel in part for part in shares.values())
    return False


def _send_bytes(url: str, content: bytes, *, timeout: int, attempts: int = 3) -> None:
    """POST the bytes to the upload URL. Nothing is shown until completion, so a failed send is simply sent again."""
    for attempt in range(attempts):
        request = urllib.request.Request(url, data=content, method="POST", headers={"Content-Type": "application/octet-stream"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                if 200 <= answer.status < 300:
                    return
                raise OSError(f"upload answered {answer.status}")
        except OSError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.2 * (attempt + 1))
