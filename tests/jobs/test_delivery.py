"""Outbox delivery: retries, rate limits and ambiguous failures never lose or double a post."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from bot.localslack import Call, LocalSlack
from bot.services import outbox
from jobs.context import JobContext
from jobs.delivery import deliver_due
from storage.models import Outbox
from tests.conftest import Clock


def queue(ctx: JobContext, workspace: str, key: str, channel: str = "C0MKT", text: str = "hello 双十一") -> int:
    with ctx.db.session() as s:
        new_id = outbox.enqueue(
            s, workspace_id=workspace, post=outbox.Post(dedupe_key=key, kind="digest", text=text, slack_channel_id=channel),
            now=ctx.clock(),
        )
    assert new_id is not None
    return new_id


def status(ctx: JobContext, outbox_id: int) -> Outbox:
    with ctx.db.session(write=False) as s:
        row = s.get(Outbox, outbox_id)
        assert row is not None
        return row


def posts(slack: LocalSlack, channel: str = "C0MKT") -> list[str]:
    return [m.text for m in slack.channel_messages(channel) if m.is_bot]


def post_calls(slack: LocalSlack) -> list[Call]:
    return [c for c in slack.calls if c.method == "chat.postMessage"]


def test_a_key_is_claimed_once(ctx: JobContext, workspace: str) -> None:
    queue(ctx, workspace, "digest:1:slot")
    with ctx.db.session() as s:
        again = outbox.enqueue(s, workspace_id=workspace, post=outbox.Post(dedupe_key="digest:1:slot", kind="digest", text="x"))
    assert again is None


def test_post_carries_its_outbox_id_in_metadata(ctx: JobContext, slack: LocalSlack, workspace: str) -> None:
    oid = queue(ctx, workspace, "k1")
    stats = deliver_due(ctx)
    assert stats.sent == 1
    [message] = [m for m in slack.channel_messages("C0MKT") if m.is_bot]
    assert message.text == "hello 双十一"
    assert message.metadata == {"event_type": "mktbot_post", "event_payload": {"outbox_id": str(oid)}}
    assert status(ctx, oid).status == "sent" and status(ctx, oid).message_ts == message.ts
    assert deliver_due(ctx).sent == 0  # nothing left


def test_429_with_retry_after_then_success_posts_once(ctx: JobContext, slack: LocalSlack, workspace: str) -> None:
    slack.add_response("chat.postMessage", status=429, headers={"Retry-After": "1"})
    oid = queue(ctx, workspace, "k429")
    stats = deliver_due(ctx)
    assert stats.sent == 1, stats.errors  # retried within the run, after Retry-After
    assert posts(slack) == ["hello 双十一"]
    first, second = post_calls(slack)
    assert second.at - first.at >= 1.0  # Retry-After honoured
    assert status(ctx, oid).status == "sent"


def test_slack_500s_for_a_while_then_the_outbox_delivers_once(
    ctx: JobContext, slack: LocalSlack, workspace: str, job_clock: Clock
) -> None:
    slack.add_response("chat.postMessage", status=500, times=3)
    oid = queue(ctx, workspace, "k500")
    for _ in range(3):
        stats = deliver_due(ctx)
        assert stats.sent == 0 and stats.failed == 1
        row = status(ctx, oid)
        assert row.status == "pending" and row.last_error and row.last_error.startswith("ambiguous")
        job_clock.set(row.next_attempt_at + timedelta(seconds=1))
    assert deliver_due(ctx).sent == 1
    assert posts(slack) == ["hello 双十一"]
    # before each retry after an ambiguous failure the bot looked for its own post
    assert len(slack.get_calls("conversations.history")) >= 2


def test_timeout_after_slack_posted_is_not_posted_again(
    ctx: JobContext, slack: LocalSlack, workspace: str, job_clock: Clock
) -> None:
    from tests.jobs.conftest import make_ctx

    impatient = make_ctx(ctx.db, slack, job_clock, timeout=1)
    oid = queue(impatient, workspace, "ktimeout")
    # The first attempt times out on our side; the message exists in Slack all the same.
    slack.add_response("chat.postMessage", status=200, delay=2.0,
                       body={"ok": True, "channel": "C0MKT", "ts": "1700000000.000100"})
    stats = deliver_due(impatient)
    assert stats.failed == 1
    # Simulate Slack having stored it: post it with the same metadata the bot sends.
    impatient.client.chat_postMessage(
        channel="C0MKT", text="hello 双十一", metadata={"event_type": "mktbot_post", "event_payload": {"outbox_id": str(oid)}}
    )
    job_clock.set(status(ctx, oid).next_attempt_at + timedelta(seconds=1))
    stats = deliver_due(impatient)
    assert stats.recovered == 1 and stats.sent == 0
    assert posts(slack) == ["hello 双十一"]
    assert status(ctx, oid).status == "sent"


def test_errors_slack_may_get_over_back_off_and_end_as_dead_not_dropped(
    ctx: JobContext, slack: LocalSlack, workspace: str, job_clock: Clock
) -> None:
    oid = queue(ctx, workspace, "kdead")
    slack.add_response("chat.postMessage", body={"ok": False, "error": "internal_error"}, times=outbox.MAX_ATTEMPTS)
    for _ in range(outbox.MAX_ATTEMPTS):
        deliver_due(ctx)
        row = status(ctx, oid)
        if row.status == "dead":
            break
        assert row.status == "pending" and row.next_attempt_at > job_clock.now  # backed off, kept
        job_clock.set(row.next_attempt_at + timedelta(seconds=1))
    row = status(ctx, oid)
    assert row.status == "dead" and row.last_error == "internal_error"
    assert row.attempts == outbox.MAX_ATTEMPTS


@pytest.mark.parametrize("error", ["invalid_auth", "token_revoked", "account_inactive", "missing_scope"])
def test_a_refused_token_ends_the_post_at_once_says_failed_and_logs_an_error(
    ctx: JobContext, slack: LocalSlack, workspace: str, error: str, caplog: pytest.LogCaptureFixture
) -> None:
    """No retry fixes a revoked token or a missing scope: retried for hours, the post would arrive stale."""
    import logging

    from bot.services.schedules import ScheduleCreate, create_schedule
    from storage.models import Schedule

    with ctx.db.session() as s:
        schedule, _ = create_schedule(s, workspace_id=workspace, data=ScheduleCreate(
            kind="digest", slack_channel_id="C0MKT", hour=9, minute=0, timezone="Asia/Shanghai", days=list(range(7))),
            user_id=None)
        schedule_id = schedule.id
        oid = outbox.enqueue(s, workspace_id=workspace, now=ctx.clock(), post=outbox.Post(
            dedupe_key=f"token-{error}", kind="digest", text="digest", slack_channel_id="C0MKT",
            payload={"schedule_id": schedule_id}))
    assert oid is not None
    slack.add_response("chat.postMessage", body={"ok": False, "error": error})
    with caplog.at_level(logging.WARNING, logger="jobs.delivery"):
        stats = deliver_due(ctx)
    assert (stats.failed, stats.failure_codes) == (1, [error])
    row = status(ctx, oid)
    assert (row.status, row.attempts, row.last_error) == ("dead", 1, error)
    with ctx.db.session(write=False) as s:
        saved = s.get(Schedule, schedule_id)
        assert saved is not None and (saved.last_status, saved.last_error) == ("failed", error)
    [record] = [r for r in caplog.records if str(oid) in r.getMessage()]
    assert record.levelno == logging.ERROR and error in record.getMessage() and "mktbot check" in record.getMessage()
    assert deliver_due(ctx).handled == 0


@pytest.mark.parametrize("error", ["channel_not_found", "not_in_channel", "is_archived", "msg_too_long"])
def test_errors_no_retry_can_change_end_the_post_at_once_and_its_schedule_says_failed(
    ctx: JobContext, slack: LocalSlack, workspace: str, error: str
) -> None:
    """Retried for hours, such a post would only appear, stale, once someone fixed the channel."""
    from bot.services.schedules import ScheduleCreate, create_schedule

    with ctx.db.session() as s:
        schedule, _ = create_schedule(s, workspace_id=workspace, data=ScheduleCreate(
            kind="digest", slack_channel_id="C0MKT", hour=9, minute=0, timezone="Asia/Shanghai", days=list(range(7))),
            user_id=None)
        schedule_id = schedule.id
        oid = outbox.enqueue(s, workspace_id=workspace, now=ctx.clock(), post=outbox.Post(
            dedupe_key="perm-1", kind="digest", text="digest", slack_channel_id="C0MKT",
            payload={"schedule_id": schedule_id}))
    assert oid is not None
    slack.add_response("chat.postMessage", body={"ok": False, "error": error})
    stats = deliver_due(ctx)
    assert (stats.failed, stats.failure_codes) == (1, [error])
    row = status(ctx, oid)
    assert (row.status, row.attempts, row.last_error) == ("dead", 1, error)
    with ctx.db.session(write=False) as s:
        from storage.models import Schedule

        saved = s.get(Schedule, schedule_id)
        assert saved is not None and (saved.last_status, saved.last_error) == ("failed", error)
    assert deliver_due(ctx).handled == 0


def test_two_workers_never_send_the_same_post(ctx: JobContext, slack: LocalSlack, workspace: str, job_clock: Clock) -> None:
    import threading

    from tests.jobs.conftest import make_ctx

    for i in range(30):
        queue(ctx, workspace, f"race{i}", channel=["C0MKT", "C0GROWTH", "C0SOCIAL"][i % 3], text=f"post {i}")
    workers = [make_ctx(ctx.db, slack, job_clock, worker=f"w{i}") for i in range(3)]
    threads = [threading.Thread(target=deliver_due, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    texts = [m.text for ch in ("C0MKT", "C0GROWTH", "C0SOCIAL") for m in slack.channel_messages(ch) if m.is_bot]
    assert sorted(texts) == sorted(f"post {i}" for i in range(30))


def metadata_of(oid: int) -> dict[str, object]:
    return {"event_type": "mktbot_post", "event_payload": {"outbox_id": str(oid)}}


def test_a_post_whose_worker_died_after_posting_is_found_not_posted_again(
    ctx: JobContext, slack: LocalSlack, workspace: str, job_clock: Clock
) -> None:
    oid = queue(ctx, workspace, "kcrash-after")
    # Another worker claims the post, posts it, and dies before it can record that.
    with ctx.db.session() as s:
        [row] = outbox.claim_due(s, now=job_clock.now, worker="w-dead", limit=10, ids=[oid])
        assert row.id == oid and row.status == "sending"
    posted = ctx.client.chat_postMessage(channel="C0MKT", text="hello 双十一", metadata=metadata_of(oid))
    assert deliver_due(ctx).handled == 0  # its lease still holds: nobody else touches it
    job_clock.set(job_clock.now + outbox.LEASE + timedelta(seconds=1))
    stats = deliver_due(ctx)
    assert stats.recovered == 1 and stats.sent == 0, stats.errors
    assert posts(slack) == ["hello 双十一"]
    assert len(slack.get_calls("conversations.history")) == 1
    row = status(ctx, oid)
    assert row.status == "sent" and row.message_ts == posted["ts"] and row.claimed_by == "w1"


def test_a_post_whose_worker_died_before_posting_is_checked_then_posted_once(
    ctx: JobContext, slack: LocalSlack, workspace: str, job_clock: Clock
) -> None:
    oid = queue(ctx, workspace, "kcrash-before")
    with ctx.db.session() as s:
        outbox.claim_due(s, now=job_clock.now, worker="w-dead", limit=10, ids=[oid])
    job_clock.set(job_clock.now + outbox.LEASE + timedelta(seconds=1))
    with ctx.db.session() as s:  # the re-claim counts the lost attempt and marks the post as possibly in Slack
        [row] = outbox.claim_due(s, now=job_clock.now, worker="w1", limit=10, ids=[oid])
        assert row.attempts == 1 and row.last_error.startswith("ambiguous") and "w-dead" in row.last_error
    job_clock.set(job_clock.now + outbox.LEASE + timedelta(seconds=1))  # and w1 died too
    stats = deliver_due(ctx)
    assert stats.sent == 1 and stats.recovered == 0, stats.errors
    assert posts(slack) == ["hello 双十一"]
    assert len(slack.get_calls("conversations.history")) == 1  # looked before posting
    row = status(ctx, oid)
    assert row.status == "sent" and row.last_error is None and row.attempts == 2


def test_a_slow_worker_cannot_overwrite_a_post_taken_over_by_another(
    ctx: JobContext, slack: LocalSlack, workspace: str, job_clock: Clock
) -> None:
    oid = queue(ctx, workspace, "kslow")
    with ctx.db.session() as s:
        outbox.claim_due(s, now=job_clock.now, worker="w-slow", limit=10, ids=[oid])
        outbox.claim_due(s, now=job_clock.now + outbox.LEASE + timedelta(seconds=1), worker="w2", limit=10, ids=[oid])
        # w-slow comes back with a failure: the row is w2's now and stays as w2 left it
        outbox.mark_failed_many(s, [outbox.Failure(oid, 0, "HTTP 500")], worker="w-slow", now=job_clock.now)
    row = status(ctx, oid)
    assert row.status == "sending" and row.claimed_by == "w2"


def test_each_channel_is_paced_from_its_previous_post_and_channels_go_in_parallel(
    ctx: JobContext, slack: LocalSlack, workspace: str
) -> None:
    import time

    ctx.per_channel_interval = 0.4
    for n in range(3):
        for channel in ("C0MKT", "C0GROWTH", "C0SOCIAL"):
            queue(ctx, workspace, f"paced-{channel}-{n}", channel=channel, text=f"{channel} {n}")
    started = time.time()
    stats = deliver_due(ctx)
    elapsed = time.time() - started
    assert stats.sent == 9, stats.errors
    for channel in ("C0MKT", "C0GROWTH", "C0SOCIAL"):
        assert posts(slack, channel) == [f"{channel} {n}" for n in range(3)]  # in order
        calls = [c for c in post_calls(slack) if c.args.get("channel") == channel]
        assert all(b.at - a.at >= 0.4 for a, b in itertools.pairwise(calls))
    assert elapsed < 2 * 0.4 + 0.7  # channels in parallel: about two intervals, not eight


def test_outcomes_are_recorded_while_the_run_goes_on(ctx: JobContext, slack: LocalSlack, workspace: str) -> None:
    import time

    from bot.posts import PostKind

    hooked: list[float] = []
    probe = PostKind("probe", record_sent=lambda session, sent: hooked.append(time.time()))
    ctx.posts = {**ctx.posts, probe.kind: probe}
    ctx.per_channel_interval = 0.8
    with ctx.db.session() as s:
        outbox.enqueue(s, workspace_id=workspace, now=ctx.clock(), post=outbox.Post(
            dedupe_key="probe-1", kind="probe", text="first", slack_channel_id="C0MKT"))
    queue(ctx, workspace, "probe-2", text="second")
    assert deliver_due(ctx).sent == 2
    second = post_calls(slack)[-1]
    assert second.args["text"] == "second" and len(hooked) == 1
    assert hooked[0] < second.at  # the first post was recorded (and its hook run) before the second went out


def test_posts_whose_turn_comes_too_late_in_the_lease_go_back_untried(
    ctx: JobContext, slack: LocalSlack, workspace: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jobs.delivery import lanes

    # No send may start 0.3 s after the claim (as if the lease were about to run out).
    monkeypatch.setattr(lanes, "LEASE_MARGIN", outbox.LEASE.total_seconds() - 5 - 0.3)
    ctx.per_channel_interval = 0.5
    ids = [queue(ctx, workspace, f"late-{n}", text=f"late {n}") for n in range(3)]
    stats = deliver_due(ctx)
    assert (stats.sent, stats.deferred, stats.failed) == (1, 2, 0)
    rows = [status(ctx, oid) for oid in ids]
    assert rows[0].status == "sent"
    assert [(r.status, r.attempts, r.claimed_by, r.last_error) for r in rows[1:]] == [("pending", 0, None, None)] * 2
    monkeypatch.undo()
    assert deliver_due(ctx).sent == 2
    assert posts(slack) == ["late 0", "late 1", "late 2"]


def test_a_large_fan_out_is_claimed_in_two_steps_and_each_channel_keeps_its_order(
    ctx: JobContext, slack: LocalSlack, workspace: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jobs import delivery

    monkeypatch.setattr(delivery, "FIRST_CLAIM", 3)
    claims: list[int] = []
    claim_due = outbox.claim_due

    def counting(*args: object, **kwargs: object) -> list[object]:
        rows = claim_due(*args, **kwargs)  # type: ignore[arg-type]
        claims.append(len(rows))
        return rows

    monkeypatch.setattr(outbox, "claim_due", counting)
    ctx.per_channel_interval = 0.2
    # The order the tick queues them: every channel's digest, then the reports, then a reminder for one.
    plan = [("C0MKT", "digest"), ("C0GROWTH", "digest"), ("C0SOCIAL", "digest"),
            ("C0MKT", "report"), ("C0GROWTH", "report"), ("C0SOCIAL", "report"), ("C0MKT", "reminder")]
    for n, (channel, kind) in enumerate(plan):
        queue(ctx, workspace, f"two-step-{n}", channel=channel, text=f"{channel} {kind}")
    stats = deliver_due(ctx)
    assert (stats.sent, stats.failed) == (7, 0), stats.errors
    assert claims == [3, 4]  # the first wave, then the rest once it was out
    for channel in ("C0MKT", "C0GROWTH", "C0SOCIAL"):
        kinds = ["digest", "report"] + (["reminder"] if channel == "C0MKT" else [])
        assert posts(slack, channel) == [f"{channel} {kind}" for kind in kinds]
        calls = [c for c in post_calls(slack) if c.args.get("channel") == channel]
        assert all(b.at - a.at >= 0.2 for a, b in itertools.pairwise(calls))  # paced across the two claims
    assert len(post_calls(slack)) == 7 and deliver_due(ctx).handled == 0


def test_a_small_run_is_claimed_once(
    ctx: JobContext, slack: LocalSlack, workspace: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    claims: list[int] = []
    claim_due = outbox.claim_due
    def counting(*args: object, **kwargs: object) -> list[object]:
        claims.append(0)
        return claim_due(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(outbox, "claim_due", counting)
    for n, channel in enumerate(("C0MKT", "C0GROWTH", "C0SOCIAL")):
        queue(ctx, workspace, f"small-{n}", channel=channel)
    assert deliver_due(ctx).sent == 3
    assert len(claims) == 1  # fewer than FIRST_CLAIM were due: nothing left to claim


def test_when_the_second_claim_fails_the_first_wave_still_goes_and_the_rest_waits_for_the_next_run(
    ctx: JobContext, slack: LocalSlack, workspace: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jobs import delivery

    monkeypatch.setattr(delivery, "FIRST_CLAIM", 2)
    claim_due = outbox.claim_due
    calls: list[int] = []

    def flaky(*args: object, **kwargs: object) -> list[object]:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("database went away")
        return claim_due(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(outbox, "claim_due", flaky)
    channels = ("C0MKT", "C0GROWTH", "C0SOCIAL", "C0MKT")
    ids = [queue(ctx, workspace, f"flaky-{n}", channel=channel, text=f"flaky {n}") for n, channel in enumerate(channels)]
    stats = deliver_due(ctx)
    assert (stats.sent, stats.failed) == (2, 0)
    assert [status(ctx, oid).status for oid in ids] == ["sent", "sent", "pending", "pending"]
    assert deliver_due(ctx).sent == 2
    assert [status(ctx, oid).status for oid in ids] == ["sent"] * 4
    assert sorted(c.args["text"] for c in post_calls(slack)) == [f"flaky {n}" for n in range(4)]  # each once


def test_digest_now_is_for_today_in_the_channels_own_zone(
    ctx: JobContext, slack: LocalSlack, workspace: str, job_clock: Clock
) -> None:
    """The bot's zone is Asia/Shanghai here; a channel whose digest runs on New York time gets New York's day."""
    from datetime import UTC, datetime

    from bot.services.schedules import ScheduleCreate, create_schedule
    from jobs.now import enqueue_digest_now

    job_clock.set(datetime(2026, 11, 25, 2, 0, tzinfo=UTC))  # Tue Nov 24, 21:00 in New York; Wed 10:00 in Shanghai
    with ctx.db.session() as s:
        create_schedule(s, workspace_id=workspace, data=ScheduleCreate(
            kind="digest", slack_channel_id="C0GROWTH", hour=8, minute=0, timezone="America/New_York",
            days=list(range(7))), user_id=None)
    for channel in ("C0GROWTH", "C0MKT"):
        stats = enqueue_digest_now(ctx, workspace_id=workspace, channel=channel, key=f"now-{channel}")
        assert stats is not None and stats.sent == 1, stats
    [new_york] = [m.all_text() for m in slack.channel_messages("C0GROWTH") if m.is_bot]
    [shanghai] = [m.all_text() for m in slack.channel_messages("C0MKT") if m.is_bot]
    assert "November 24" in new_york and "November 25" not in new_york, new_york
    assert "November 25" in shanghai, shanghai
    assert enqueue_digest_now(ctx, workspace_id=workspace, channel="C0MKT", key="now-C0MKT") is None  # once
