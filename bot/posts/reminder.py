"""Reminders: a direct message to a task's owner the day before it is due and when it becomes overdue, once each,
at 09:00 or later in the owner's own Slack time zone (bot.posts.zones).

The due reminders are found in a read-only session, each owner's language is looked up with no transaction open
(it may wait on Slack), and the drafts are enqueued in one short write."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.i18n import EN, t
from bot.i18n.fmt import fmt_date
from bot.posts import Draft, PostKind
from bot.posts.zones import owner_zones
from bot.render.reply import Builder
from bot.render.views import mark_locale, task_actions_block
from bot.services import outbox
from bot.slack_text import esc
from storage.models import Outbox, Task

if TYPE_CHECKING:
    from jobs.context import JobContext

REMIND_AT_HOUR = 9  # local time: nobody wants a reminder at midnight
OVERDUE_WINDOW = timedelta(days=7)  # older overdue tasks belong in the digest, not in a fresh DM


class ReminderPost(PostKind):
    def compose(self, task: Task, *, due: str, today: date, locale: str = EN) -> Draft:
        """The reminder in the owner's language: what is due (or overdue), the commands, and the task's buttons."""
        ref, when = f"T-{task.number}", fmt_date(task.due_on, today, locale)
        head = t(f"reminder.{due}", locale, ref=ref, title=esc(task.title), when=when)
        plain = t(f"reminder.{due}_plain", locale, ref=ref, title=esc(task.title), when=when)
        reply = Builder().section(head).context(t("reminder.commands", locale, ref=ref)).build(text=plain)
        actions = task_actions_block(task.number, task.status, task.due_on, locale=locale)  # Start · Done · Block… · Snooze
        blocks = mark_locale(reply.blocks, locale)  # a click (Snooze a day…) redraws it in the owner's language
        return Draft(text=reply.text, blocks=[*blocks, actions] if actions else blocks)


REMINDER = ReminderPost("reminder")


def _key(due: str, task: Task) -> str:
    """One reminder of each kind per task, due date and owner: a task handed to someone else reminds them too."""
    assert task.due_on is not None
    return f"reminder:{due}:{task.id}:{task.due_on.isoformat()}:{task.owner_id}"


def _already_reminded(session: Session, due: str, task: Task) -> bool:
    if outbox.exists(session, dedupe_key=_key(due, task)):
        return True
    assert task.due_on is not None  # the key before owners were part of it, for reminders already sent
    legacy = f"reminder:{due}:{task.id}:{task.due_on.isoformat()}"
    return session.scalar(select(Outbox.user_id).where(Outbox.dedupe_key == legacy)) == task.owner_id


def _candidates(session: Session, *, around: date) -> list[Task]:
    """Open tasks with an owner that may be due tomorrow or newly overdue somewhere on Earth on the UTC day `around`
    (local dates run from a day before to a day after it)."""
    return list(session.scalars(
        select(Task).where(
            Task.status != "done",
            Task.owner_id.is_not(None),
            Task.due_on.is_not(None),
            Task.due_on >= around - timedelta(days=1) - OVERDUE_WINDOW,
            Task.due_on <= around + timedelta(days=2),
        )
    ).all())


def reminder_kind(task: Task, *, today: date) -> str | None:
    """due (tomorrow), overdue (within the window) or None, on the owner's `today`."""
    assert task.due_on is not None
    if task.due_on == today + timedelta(days=1):
        return "due"
    if today - OVERDUE_WINDOW <= task.due_on < today:
        return "overdue"
    return None


def enqueue_reminders(ctx: JobContext, now: datetime) -> list[str]:
    """Reminders due at this moment: each owner's at 09:00 or later in their own Slack time zone."""
    with ctx.db.session(write=False) as session:
        candidates = _candidates(session, around=now.astimezone(UTC).date())
    zones = owner_zones(ctx, {(t.workspace_id, t.owner_id) for t in candidates if t.owner_id}, now=now)
    due: list[tuple[str, Task, date]] = []
    with ctx.db.session(write=False) as session:
        for task in candidates:
            local = now.astimezone(zones[(task.workspace_id, task.owner_id or "")])
            kind = reminder_kind(task, today=local.date())
            if local.hour >= REMIND_AT_HOUR and kind is not None and not _already_reminded(session, kind, task):
                due.append((kind, task, local.date()))
    # Each owner's language (users.info, cached) is looked up with no transaction open: it may wait on Slack.
    locales = {(task.workspace_id, task.owner_id): ctx.locales.resolve(ctx.client, ctx.db, task.workspace_id, task.owner_id)
               for _, task, _ in due if task.owner_id}
    drafts = [(kind, task, REMINDER.compose(task, due=kind, today=today,
                                            locale=locales.get((task.workspace_id, task.owner_id or ""), EN)))
              for kind, task, today in due]
    claimed: list[str] = []
    with ctx.db.session() as session:
        for kind, task, draft in drafts:
            new_id = REMINDER.enqueue(session, draft, workspace_id=task.workspace_id, key=_key(kind, task),
                                      user_id=task.owner_id, now=now)
            if new_id is not None:
                claimed.append(_key(kind, task))
    return claimed
