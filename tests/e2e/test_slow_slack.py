"""A slow or failing Slack Web API never reaches the ack: auth.test and users.list run in the background."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bot.app import build_app
from bot.localslack import LocalSlack
from bot.server import BackgroundServer
from bot.settings import Settings
from storage.db import Database
from tests.conftest import Clock
from tests.support.harness import ANA, BO, NOW, Bot, dump, make_slack, new_team_id, reply_texts, wait_until


@contextmanager
def bot_on(slack: LocalSlack, db: Database, clock: Clock, team_id: str) -> Iterator[Bot]:
    """The real app over HTTP against `slack`, whose canned answers the test queued before the app started."""
    settings = Settings(
        api_url=slack.api_url, bot_token=slack.bot_token, signing_secret=slack.signing_secret,
        database_url=db.engine.url.render_as_string(hide_password=False), timezone="Asia/Shanghai",
        listener_threads=4,
    )
    app = build_app(settings, db=db, clock=clock)
    server = BackgroundServer(app, port=0, threads=8)
    server.server.adj.asyncore_loop_timeout = 0.05
    server.start()
    slack.bot_url = server.url
    try:
        yield Bot(slack=slack, app=app, server=server, db=db, clock=clock, team_id=team_id)
    finally:
        if hasattr(app, "identity"):
            app.identity.stopping.set()
        app.runtime.background.shutdown(wait=True)
        server.stop()
        slack.stop()


def responses_after(slack: LocalSlack, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
    """The bodies posted to response_url, once there are `count` of them."""
    deadline = time.monotonic() + timeout
    while len(slack.responses) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    return [r["body"] for r in slack.responses]


def test_auth_test_failing_at_start_never_asks_to_reinstall(sqlite_db: Database, clock: Clock) -> None:
    clock.set(NOW)
    team = new_team_id()
    slack = make_slack(team)
    slack.add_response("auth.test", status=503, times=20)
    with bot_on(slack, sqlite_db, clock, team) as bot:
        said = bot.say(ANA, "/task add Banner due:fri")
        assert "reinstall" not in said.lower(), dump(bot)
        assert "Banner" in said and "T-1" in said, dump(bot)
        assert bot.rows("SELECT title FROM tasks WHERE workspace_id = :t", t=team) == [("Banner",)]
        said = bot.say(ANA, "/kpi log signups 5")
        assert "reinstall" not in said.lower(), dump(bot)


def test_a_rate_limited_reload_keeps_the_names_already_known(sqlite_db: Database, clock: Clock) -> None:
    clock.set(NOW)
    team = new_team_id()
    slack = make_slack(team)
    with bot_on(slack, sqlite_db, clock, team) as bot:
        bot.say(ANA, "/task add Warmup @bo")  # answered in the ack, or after it while the directory loads
        owners = "SELECT owner_id FROM tasks WHERE workspace_id = :t ORDER BY id"
        wait_until(lambda: bot.rows(owners, t=team), what="the first task")
        slack.add_response("users.list", status=429, times=5)
        assert "don't know anyone called `@nobody`" in bot.say(ANA, "/task add Flyer @nobody"), dump(bot)
        said = bot.say(ANA, "/task add Banner @bo")
        assert "don't know" not in said and f"<@{BO}>" in said, dump(bot)
        assert bot.rows(owners, t=team) == [(BO,), (BO,)]


def test_a_name_the_directory_has_not_loaded_yet_is_answered_after_the_ack(
    sqlite_db: Database, clock: Clock
) -> None:
    clock.set(NOW)
    team = new_team_id()
    slack = make_slack(team)
    slack.add_response("users.list", status=429, times=1)  # the load at start fails
    with bot_on(slack, sqlite_db, clock, team) as bot:
        slack.wait_for("users.list")
        said = bot.say(ANA, "/task add Banner @bo")
        assert said.ephemeral and "Looking up `@bo`" in said, dump(bot)
        bodies = responses_after(slack, 1)
        texts = "\n".join(t for body in bodies for t in reply_texts(body))
        assert "Banner" in texts and f"<@{BO}>" in texts, dump(bot)
        assert bot.rows("SELECT title, owner_id FROM tasks WHERE workspace_id = :t", t=team) == [("Banner", BO)]

        said = bot.say(ANA, "/task add Flyer @nobody")  # the directory is loaded now: a plain answer
        assert "don't know anyone called `@nobody`" in said, dump(bot)
        assert len(bot.rows("SELECT id FROM tasks WHERE workspace_id = :t", t=team)) == 1


def test_an_answer_after_the_ack_survives_a_failing_response_url(sqlite_db: Database, clock: Clock) -> None:
    """The name needed the directory, and the response_url then fails: the answer reaches the person in the
    channel anyway (chat.postEphemeral), so "Looking up…" is never the last word."""
    clock.set(NOW)
    team = new_team_id()
    slack = make_slack(team)
    slack.add_response("users.list", status=429, times=1)
    with bot_on(slack, sqlite_db, clock, team) as bot:
        slack.wait_for("users.list")
        slack.fail_response_urls(times=1)
        said = bot.say(ANA, "/task add Banner @bo")
        assert "Looking up `@bo`" in said, dump(bot)
        shown = slack.wait_for_message(where=lambda m: m.source == "chat.postEphemeral" and "Banner" in m.all_text())
        assert shown.ephemeral_user == ANA and f"<@{BO}>" in shown.all_text()
        assert bot.rows("SELECT title FROM tasks WHERE workspace_id = :t", t=team) == [("Banner",)]


def test_a_rate_limited_load_waits_out_slacks_retry_after() -> None:
    from bot.app import make_client
    from bot.directory import PENDING, UserDirectory

    team = new_team_id()
    slack = make_slack(team)
    try:
        client = make_client(Settings(api_url=slack.api_url, bot_token=slack.bot_token, signing_secret="x"))
        directory = UserDirectory(min_interval=0.05)
        slack.add_response("users.list", status=429, headers={"Retry-After": "3"})
        directory.warm(client, team)
        wait_until(lambda: slack.get_calls("users.list"), what="the first load")
        time.sleep(0.3)  # far past min_interval and the failure backoff, well inside Retry-After
        for _ in range(5):
            assert directory.lookup(client, team, "ana", grace=0.05) in (None, PENDING)
            time.sleep(0.1)
        assert len(slack.get_calls("users.list")) == 1, "no load before Slack's Retry-After"
        assert directory.wait(client, team, "ana", timeout=10) == ANA, "loaded once Retry-After passed"
        assert len(slack.get_calls("users.list")) == 2
    finally:
        slack.stop()
