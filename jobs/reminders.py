"""Reminders: a direct message to a task's owner the day before it is due and when it becomes overdue, once each."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select

from bot.render.reply import Builder
from bot.render.text import esc, fmt_date
from bot.render.views import task_actions_block
from bot.services import outbox
from jobs.context import JobContext
from storage.models import Task

REMIND_AT_HOUR = 9  # local time: nobody wants a reminder at midnight
OVERDUE_WINDOW = timedelta(days=7)  # older overdue tasks belong in the digest, not in a fresh DM


def reminder_text(task: Task, kind: str, today: date) -> tuple[str, list[dict[str, object]]]:
    if kind == "due":
        head = f":alarm_clock: *T-{task.number}* {esc(task.title)} is due {fmt_date(task.due_on, today)}."
        plain = f"Reminder: T-{task.number} {task.title} is due tomorrow."
    else:
        head = f":warning: *T-{task.number}* {esc(task.title)} is overdue (was due {fmt_date(task.due_on, today)})."
        plain = f"T-{task.number} {task.title} is overdue."
    reply = (
        Builder()
        .section(head)
        .context(f"`/task done T-{task.number}` · `/task due T-{task.number} <new date>` · `/task block T-{task.number} <reason>`")
        .build(text=plain)
    )
    actions = task_actions_block(task.number, task.status, task.due_on)  # Start · Done · Block… · Snooze a day
    return reply.text, [*reply.blocks, actions] if actions else reply.blocks


def enqueue_reminders(ctx: JobContext, now: datetime) -> list[str]:
    local = now.astimezone(ctx.zone)
    if local.hour < REMIND_AT_HOUR:
        return []
    today = local.date()
    claimed: list[str] = []
    with ctx.db.session() as session:
        rows = session.scalars(
            select(Task).where(
                Task.status != "done",
                Task.owner_id.is_not(None),
                Task.due_on.is_not(None),
                Task.due_on >= today - OVERDUE_WINDOW,
                Task.due_on <= today + timedelta(days=1),
            )
        ).all()
        for task in rows:
            assert task.due_on is not None
            if task.due_on == today + timedelta(days=1):
                kind = "due"
            elif task.due_on < today:
                kind = "overdue"
            else:
                continue
            key = f"reminder:{kind}:{task.id}:{task.due_on.isoformat()}"
            if outbox.exists(session, dedupe_key=key):
                continue
            text, blocks = reminder_text(task, kind, today)
            new_id = outbox.enqueue(
                session,
                workspace_id=task.workspace_id,
                post=outbox.Post(dedupe_key=key, kind="reminder", text=text, blocks=blocks, user_id=task.owner_id),
                now=now,
            )
            if new_id is not None:
                claimed.append(key)
    return claimed
