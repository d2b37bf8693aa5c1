"""The daily digest: what is due, overdue and blocked; how goals pace; yesterday's KPIs; campaigns; open retros."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from bot.render.reply import Reply
from bot.services import outbox
from jobs.context import JobContext
from jobs.delivery import deliver_due


def compose_digest(session: Session, *, workspace_id: str, today: date) -> Reply:
    from bot.render.digest import digest_reply
    from bot.services.digest import collect

    return digest_reply(collect(session, workspace_id=workspace_id, today=today), today=today)


def enqueue_digest_now(ctx: JobContext, *, workspace_id: str, channel: str, key: str) -> None:
    now = ctx.clock()
    today = now.astimezone(ctx.zone).date()
    with ctx.db.session() as session:
        reply = compose_digest(session, workspace_id=workspace_id, today=today)
        new_id = outbox.enqueue(
            session,
            workspace_id=workspace_id,
            post=outbox.Post(dedupe_key=key, kind="digest", text=reply.text, blocks=reply.blocks, slack_channel_id=channel),
            now=now,
        )
    if new_id is not None:
        deliver_due(ctx, now=now, only=[new_id])
