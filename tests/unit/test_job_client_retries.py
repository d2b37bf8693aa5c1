"""The scheduled jobs' sync client retries a refused connection, never one that Slack may have acted on."""

from __future__ import annotations

import socket
import threading

import pytest

from bot.app import make_client
from bot.settings import Settings


def _server_that_drops_every_request() -> tuple[str, list[int], socket.socket]:
    """Accepts, reads a request, closes without answering: Slack may or may not have acted on it."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    seen: list[int] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)
                seen.append(1)

    threading.Thread(target=serve, daemon=True).start()
    return f"http://127.0.0.1:{listener.getsockname()[1]}/api/", seen, listener


@pytest.mark.parametrize("retries", [True, False])
def test_a_dropped_answer_is_not_sent_again(retries: bool) -> None:
    url, seen, listener = _server_that_drops_every_request()
    try:
        client = make_client(Settings(bot_token="xoxb-test", api_url=url), retries=retries, timeout=5)
        with pytest.raises(Exception):  # noqa: B017 - urllib's error for a connection closed without an answer
            client.chat_postMessage(channel="C1", text="once")
        assert len(seen) == 1
    finally:
        listener.close()


def test_a_refused_connection_is_retried() -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now
    client = make_client(Settings(bot_token="xoxb-test", api_url=f"http://127.0.0.1:{port}/api/"), retries=True)
    handler = client.retry_handlers[0]
    calls: list[bool] = []
    original = handler._can_retry

    def counting(**kwargs: object) -> bool:
        result = original(**kwargs)  # type: ignore[arg-type]
        calls.append(result)
        return result

    handler._can_retry = counting  # type: ignore[method-assign]
    with pytest.raises(Exception):  # noqa: B017 - URLError(ConnectionRefusedError) once the retries are spent
        client.auth_test()
    assert calls == [True, True]  # two retries; then the handler is spent and the error is raised
