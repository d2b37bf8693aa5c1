"""Outbox delivery: retries, rate limits and ambiguous failures never lose or double a post."""

from __future__ import annotations

from datetime import timedelta

from bot.localslack import LocalSlack
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
    assert stats.sent == 1, stats.errors  # slack_sdk's RateLimitErrorRetryHandler honoured Retry-After
    assert posts(slack) == ["hello 双十一"]
    assert len(slack.get_calls("chat.postMessage")) == 2
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


def test_definitive_errors_back_off_and_end_as_dead_not_dropped(
    ctx: JobContext, slack: LocalSlack, workspace: str, job_clock: Clock
) -> None:
    oid = queue(ctx, workspace, "kdead", channel="C0NOPE")
    for _ in range(outbox.MAX_ATTEMPTS):
        deliver_due(ctx)
        row = status(ctx, oid)
        if row.status == "dead":
            break
        job_clock.set(row.next_attempt_at + timedelta(seconds=1))
    row = status(ctx, oid)
    assert row.status == "dead" and row.last_error == "channel_not_found"
    assert row.attempts == outbox.MAX_ATTEMPTS


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
