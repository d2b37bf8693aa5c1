"""Replies to slash commands: pure functions from records to (text, blocks), in the reader's language.

Every public builder takes `locale` (default English); the words live in bot/i18n's catalogs.
Task, goal and retro cards carry buttons whose block_ids name the record (bot.ids.record_block), so a
click can update exactly the blocks of that record in the message it came from.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Protocol

from slack_sdk.models.blocks import (
    ActionsBlock,
    ContextBlock,
    MarkdownTextObject,
    Option,
    OverflowMenuElement,
    PlainTextObject,
    SectionBlock,
)

from bot.anomalies import GmvMove
from bot.i18n import DEFAULT_LOCALE, LOCALES, t, tn
from bot.i18n.fmt import bar, fmt_date, fmt_number, fmt_percent, fmt_signed_percent, mention
from bot.ids import ActionId, BlockId, record_block, split_record_block
from bot.render.reply import MAX_BLOCKS, SECTION_TEXT, Builder, Reply
from bot.services.campaigns import CampaignCard, SpendEntry
from bot.services.feedback import FeedbackItem
from bot.services.goals import LEVEL, GoalCard, Progress
from bot.services.kpis import LoggedValue, MetricCard, PeriodComparison, PeriodValue, WhyItMoved
from bot.services.tasks import NewTask, TaskCard, TaskChange, TaskFilter
from bot.slack_text import esc, link, truncate

STATUS_EMOJI = {"todo": ":white_circle:", "in_progress": ":large_blue_circle:", "blocked": ":red_circle:", "done": ":white_check_mark:"}
PACE_EMOJI = {"on track": ":large_green_circle:", "at risk": ":large_yellow_circle:", "off track": ":red_circle:",
              "reached": ":white_check_mark:", "missed": ":x:"}
PACE_KEY = {"on track": "pace.on_track", "at risk": "pace.at_risk", "off track": "pace.off_track",
            "reached": "pace.reached", "missed": "pace.missed"}
BUTTON_TEXT = 75
LINE_TEXT = 1500  # one list line; Builder.lines_section emits an empty section for a line of 3,000+


def _fit(lines: list[str]) -> list[str]:
    return [truncate(line, LINE_TEXT) for line in lines]


def _field(label_key: str, value: str, locale: str) -> str:
    return f"*{t(label_key, locale)}*\n{value}"


def _paren(text: str, detail: str, locale: str) -> str:
    """`text (detail)` in English, `text（detail）` in Chinese."""
    return t("common.paren", locale, text=text, detail=detail)


def _labelled(label: str, value: str, locale: str) -> str:
    """`label: value` in English, `label：value` in Chinese."""
    return t("common.labelled", locale, label=label, value=value)


def pace_label(status: str | None, locale: str = DEFAULT_LOCALE) -> str:
    return t(PACE_KEY[status], locale) if status in PACE_KEY else t("pace.no_data", locale)


# ---- buttons -------------------------------------------------------------------------------------

def button(text: str, action_id: ActionId, value: str, *, style: str | None = None) -> dict[str, Any]:
    """A button as Block Kit JSON (plain dicts: task replies are on the ack path, where model objects cost more)."""
    element: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": truncate(text, BUTTON_TEXT), "emoji": True},
        "action_id": action_id.value,
        "value": value,
    }
    if style:
        element["style"] = style
    return element


def snooze_value(number: int, due_on: date | None) -> str:
    """The snooze button remembers the due date it moves from, so a second click (or a stale card) changes nothing."""
    return f"T-{number}@{due_on.isoformat() if due_on else ''}"


def parse_snooze_value(value: str) -> tuple[str, date | None]:
    ref, _, day = value.partition("@")
    return ref, date.fromisoformat(day) if day else None


def task_buttons(number: int, status: str, due_on: date | None, *, locale: str = DEFAULT_LOCALE) -> list[dict[str, Any]]:
    """The next obvious actions for a task in its current state (none once it is done)."""
    ref = f"T-{number}"
    if status == "done":
        return []
    buttons = []
    if status != "in_progress":
        buttons.append(button(t("button.start", locale), ActionId.TASK_START, ref))
    buttons.append(button(t("button.done", locale), ActionId.TASK_DONE, ref, style="primary"))
    if status != "blocked":
        buttons.append(button(t("button.block", locale), ActionId.TASK_BLOCK, ref))
    buttons.append(button(t("button.snooze", locale), ActionId.TASK_SNOOZE, snooze_value(number, due_on)))
    return buttons


def task_actions_block(number: int, status: str, due_on: date | None, *, locale: str = DEFAULT_LOCALE) -> dict[str, Any] | None:
    """Start / Done / Block… / Snooze a day for one task; for any message that lists tasks (replies, digest, reminders)."""
    buttons = task_buttons(number, status, due_on, locale=locale)
    if not buttons:
        return None
    return {"type": "actions", "block_id": record_block(BlockId.TASK_ACTIONS, f"T-{number}"), "elements": buttons}


def task_menu(number: int, status: str, due_on: date | None, *, locale: str = DEFAULT_LOCALE) -> OverflowMenuElement | None:
    """The same choices as an overflow menu (one accessory per task line: the Home tab, long lists)."""
    choices = []
    ref = f"T-{number}"
    if status == "done":
        return None
    if status != "in_progress":
        choices.append((t("button.start", locale), f"{ActionId.TASK_START}|{ref}"))
    choices.append((t("button.done", locale), f"{ActionId.TASK_DONE}|{ref}"))
    if status != "blocked":
        choices.append((t("button.block", locale), f"{ActionId.TASK_BLOCK}|{ref}"))
    choices.append((t("button.snooze", locale), f"{ActionId.TASK_SNOOZE}|{snooze_value(number, due_on)}"))
    return OverflowMenuElement(
        action_id=ActionId.TASK_MENU,
        options=[Option(text=PlainTextObject(text=truncate(label, BUTTON_TEXT)), value=value) for label, value in choices],
    )


def goal_actions_block(number: int, *, locale: str = DEFAULT_LOCALE) -> dict[str, Any]:
    return ActionsBlock(
        block_id=record_block(BlockId.GOAL_ACTIONS, f"G-{number}"),
        elements=[button(t("button.checkin", locale), ActionId.GOAL_CHECKIN, f"G-{number}")],
    ).to_dict()


def retro_actions_block(number: int, *, locale: str = DEFAULT_LOCALE) -> dict[str, Any]:
    ref = f"R-{number}"
    return ActionsBlock(
        block_id=record_block(BlockId.RETRO_ACTIONS, ref),
        elements=[
            button(t("button.retro_note", locale), ActionId.RETRO_NOTE, ref, style="primary"),
            button(t("button.retro_close", locale), ActionId.RETRO_CLOSE, ref),
        ],
    ).to_dict()


def _with(reply: Reply, *blocks: dict[str, Any] | None) -> Reply:
    """Append blocks (buttons) to a built reply, within the 50-block limit."""
    extra = [b for b in blocks if b is not None]
    room = MAX_BLOCKS - len(reply.blocks)
    if extra and room > 0:
        reply.blocks = reply.blocks + extra[:room]
    return reply


def update_task_blocks(
    blocks: list[dict[str, Any]], task: TaskCard, *, note: str, today: date, locale: str = DEFAULT_LOCALE
) -> list[dict[str, Any]]:
    """A message's blocks with one task's line, note and buttons brought up to date (the rest untouched).

    Used when a button is clicked on a shared message (a digest, a channel reply): the task's line
    (block_id task_line:T-n) is re-rendered, its buttons (task_actions:T-n) become a note saying who did
    what followed by the buttons that still make sense."""
    ref = f"T-{task.number}"
    note_id = record_block(BlockId.TASK_NOTE, ref)
    out: list[dict[str, Any]] = []
    placed = False
    for block in blocks:
        prefix, block_ref = split_record_block(block.get("block_id"))
        if block_ref != ref:
            out.append(block)
        elif prefix == BlockId.TASK_LINE and block.get("type") == "section":
            out.append({**block, "text": {"type": "mrkdwn", "text": truncate(task_line(task, today, locale=locale), SECTION_TEXT)}})
        elif prefix == BlockId.TASK_NOTE:
            continue
        elif prefix == BlockId.TASK_ACTIONS:
            placed = True
            out.append(ContextBlock(block_id=note_id, elements=[MarkdownTextObject(text=truncate(note, SECTION_TEXT))]).to_dict())
            actions = task_actions_block(task.number, task.status, task.due_on, locale=locale)
            if actions is not None:
                out.append(actions)
        else:
            out.append(block)
    if not placed:
        out.append(ContextBlock(block_id=note_id, elements=[MarkdownTextObject(text=truncate(note, SECTION_TEXT))]).to_dict())
    if len(out) > MAX_BLOCKS:  # the note is what we can drop; the click's effect is in the task line
        out = [b for b in out if b.get("block_id") != note_id][:MAX_BLOCKS]
    return out


def mark_locale(blocks: list[dict[str, Any]], locale: str) -> list[dict[str, Any]]:
    """The blocks with the language they are written in recorded on their last context block (its block_id), so
    a message redrawn after a click keeps that language whoever clicks (see written_locale)."""
    for index in range(len(blocks) - 1, -1, -1):
        if blocks[index].get("type") == "context" and not blocks[index].get("block_id"):
            marked = {**blocks[index], "block_id": record_block(BlockId.POST_LOCALE, locale)}
            return [*blocks[:index], marked, *blocks[index + 1:]]
    return blocks


def written_locale(blocks: list[dict[str, Any]] | None) -> str | None:
    """The language a message was written in (mark_locale), or None for a message that does not say."""
    for block in blocks or []:
        prefix, locale = split_record_block(block.get("block_id"))
        if prefix == BlockId.POST_LOCALE and locale in LOCALES:
            return locale
    return None


def close_record_blocks(blocks: list[dict[str, Any]], block_id: str, note: str) -> list[dict[str, Any]]:
    """Replace one actions block (e.g. a retro's buttons) with a context note; everything else untouched."""
    out = []
    for block in blocks:
        if block.get("block_id") == block_id:
            out.append(ContextBlock(block_id=block_id, elements=[MarkdownTextObject(text=truncate(note, SECTION_TEXT))]).to_dict())
        else:
            out.append(block)
    return out


# ---- tasks ---------------------------------------------------------------------------------------

class TaskLike(Protocol):
    """What a task's line shows of the task (a TaskCard in replies, a DigestTask in the digest, a HomeTask on the
    App Home): one line everywhere, so a digest line redrawn after a click reads as it did."""

    @property
    def number(self) -> int: ...
    @property
    def title(self) -> str: ...
    @property
    def owner_id(self) -> str | None: ...
    @property
    def status(self) -> str: ...
    @property
    def due_on(self) -> date | None: ...
    @property
    def block_reason(self) -> str | None: ...
    @property
    def campaign_number(self) -> int | None: ...
    @property
    def goal_number(self) -> int | None: ...


TITLE_CHARS = 150  # user-typed titles are cut before escaping, so an entity is never split


def task_line(task: TaskLike, today: date, *, owner: bool = True, locale: str = DEFAULT_LOCALE) -> str:
    """One task: status, reference, title, owner (left out inside a by-owner group), how due, its campaign and goal,
    why it is blocked."""
    if task.status == "done" or task.due_on is None:
        due = "" if task.due_on is None else " · " + t("task.line.due", locale, date=fmt_date(task.due_on, today, locale))
    elif task.due_on < today:
        due = " · " + tn("task.line.days_overdue", (today - task.due_on).days, locale)
    elif task.due_on == today:
        due = " · " + t("task.line.due_today", locale)
    else:
        due = " · " + t("task.line.due", locale, date=fmt_date(task.due_on, today, locale))
    links = [f"C-{task.campaign_number}"] if task.campaign_number is not None else []
    if task.goal_number is not None:
        links.append(f"G-{task.goal_number}")
    link = f" · {t('list.separator', locale).join(links)}" if links else ""
    blocked = ""
    if task.status == "blocked":
        blocked = " · " + (t("task.line.blocked_because", locale, reason=esc(truncate(task.block_reason, TITLE_CHARS)))
                           if task.block_reason else t("task.line.blocked", locale))
    who = f" · {mention(task.owner_id, locale)}" if owner else ""
    emoji = STATUS_EMOJI.get(task.status, ":white_circle:")
    return f"{emoji} *T-{task.number}* {esc(truncate(task.title, TITLE_CHARS))}{who}{due}{link}{blocked}"


def task_created(task: TaskCard | NewTask, *, today: date, locale: str = DEFAULT_LOCALE) -> Reply:
    n = task.number
    b = Builder().section(t("task.added", locale, n=n, title=esc(task.title)))
    fields = [
        _field("field.owner", mention(task.owner_id, locale), locale),
        _field("field.due", fmt_date(task.due_on, today, locale), locale),
    ]
    if task.start_on:
        fields.append(_field("field.start", fmt_date(task.start_on, today, locale), locale))
    if task.campaign is not None:
        fields.append(_field("field.campaign", f"C-{task.campaign.number} {esc(task.campaign.name)}", locale))
    if task.goal is not None:
        fields.append(_field("field.goal", f"G-{task.goal.number} {esc(task.goal.title)}", locale))
    if task.source_permalink:
        fields.append(_field("field.source", f"<{task.source_permalink}|{t('task.source_message', locale)}>", locale))
    b.fields(fields)
    b.context(t("task.created_hint", locale, n=n))
    reply = b.build(text=t("task.added_plain", locale, n=n, title=esc(task.title)))
    reply = _with(reply, task_actions_block(n, task.status, task.due_on, locale=locale))
    reply.blocks = mark_locale(reply.blocks, locale)  # a click, by whoever, redraws it in this language
    return reply


CHANGE_KEYS = {"done": "done", "in_progress": "in_progress", "blocked": "blocked", "todo": "todo"}
OTHER_CHANGES = ("assign", "due", "snooze")


def task_change_message(
    change: TaskChange, *, actor: str, today: date, locale: str = DEFAULT_LOCALE, what: str | None = None
) -> tuple[str, str]:
    """(mrkdwn, plain) saying who did what to the task, or that nothing changed.

    `what` names a change that is not a status ("assign", "due", "snooze")."""
    task = change.task
    n = task.number
    if not change.changed:
        state = {"done": "task.already.done", "in_progress": "task.already.in_progress", "blocked": "task.already.blocked",
                 "todo": "task.already.todo"}.get(task.status, "task.already.unchanged")
        if what in OTHER_CHANGES and task.status != "done":
            state = "task.already.unchanged"
        message = t("task.nothing_changed", locale, n=n, what=t(state, locale))
        return f":information_source: {message}", message
    key = what if what in OTHER_CHANGES else CHANGE_KEYS[task.status]
    if what is None and change.before == task.status:
        key = "updated"
    message = t(f"task.changed.{key}", locale, n=n, actor=mention(actor, locale), owner=mention(task.owner_id, locale),
                date=fmt_date(task.due_on, today, locale))
    return message, t(f"task.changed_plain.{key}", locale, n=n, title=esc(task.title))


def task_changed(
    change: TaskChange, *, actor: str, today: date, locale: str = DEFAULT_LOCALE, what: str | None = None
) -> Reply:
    """A task after a change (or a click that changed nothing), with the buttons that still make sense."""
    task = change.task
    message, plain = task_change_message(change, actor=actor, today=today, locale=locale, what=what)
    line = SectionBlock(block_id=record_block(BlockId.TASK_LINE, f"T-{task.number}"),
                        text=MarkdownTextObject(text=truncate(task_line(task, today, locale=locale), SECTION_TEXT)))
    reply = Builder().section(message).add(line).build(text=plain)
    return _with(reply, task_actions_block(task.number, task.status, task.due_on, locale=locale))


def task_list(rows: list[TaskCard], *, filters: TaskFilter, today: date, viewer: str, locale: str = DEFAULT_LOCALE) -> Reply:
    scope = []
    if filters.owner_id:
        scope.append(t("task.scope.yours", locale) if filters.owner_id == viewer else t("task.scope.of", locale, user=mention(filters.owner_id, locale)))
    if filters.overdue:
        scope.append(t("task.scope.overdue", locale))
    if filters.blocked:
        scope.append(t("task.scope.blocked", locale))
    title = t("task.list.title", locale) + (t("task.list.scope", locale, scope=t("list.separator", locale).join(scope)) if scope else "")
    title += "" if filters.include_done else t("task.list.open_suffix", locale)
    if not rows:
        return Builder().section(f"*{title}*\n" + t("task.list.empty", locale)).build()
    overdue = sum(1 for task in rows if task.due_on and task.due_on < today and task.status != "done")
    head = f"*{title}* · {tn('task.count', len(rows), locale)}" + (f" · {t('task.overdue_count', locale, n=overdue)}" if overdue else "")
    b = Builder().section(head)
    b.lines_section(_fit([task_line(task, today, locale=locale) for task in rows]), more=t("task.list.more", locale))
    return b.build()


# ---- goals ---------------------------------------------------------------------------------------

class GoalLike(Protocol):
    """What a goal's line shows of the goal (a GoalCard in messages, a HomeGoal on the App Home)."""

    @property
    def number(self) -> int: ...
    @property
    def title(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def unit(self) -> str | None: ...
    @property
    def target(self) -> Decimal: ...
    @property
    def due_on(self) -> date: ...
    @property
    def owner_id(self) -> str | None: ...


def goal_progress_line(goal: GoalLike, progress: Progress, today: date, *, locale: str = DEFAULT_LOCALE) -> str:
    """One goal with its pace: the same line in replies, the report and the App Home."""
    unit = goal.unit
    if goal.status == "closed":  # a closed goal is not on or off track any more
        pace = f":checkered_flag: {t('goal.closed_status', locale)}"
    else:
        pace = f"{PACE_EMOJI.get(progress.status or '', ':white_circle:')} {pace_label(progress.status, locale)}"
    return f"*G-{goal.number}* {esc(goal.title)} · {pace}\n      " + t(
        "goal.progress_line", locale,
        bar=bar(progress.percent_of_target),
        current=fmt_number(progress.current, unit, locale),
        target=fmt_number(goal.target, unit, locale),
        pct=fmt_percent(progress.percent_of_target, locale),
        time=fmt_percent(progress.percent_of_time, locale),
        date=fmt_date(goal.due_on, today, locale),
        owner=mention(goal.owner_id, locale),
    )


def _target(goal: GoalCard, locale: str) -> str:
    """A level's baseline is where it starts from (a lift); a total's is a reference it is compared with, never
    a starting point (README: "How the figures are computed")."""
    unit = goal.unit
    text = fmt_number(goal.target, unit, locale)
    if goal.baseline is not None:
        key = "goal.from_baseline" if goal.kind == LEVEL else "goal.baseline_reference"
        text += t(key, locale, baseline=fmt_number(goal.baseline, unit, locale))
    return text


def goal_created(goal: GoalCard, *, today: date, actor: str, locale: str = DEFAULT_LOCALE) -> Reply:
    b = Builder().section(t("goal.set", locale, actor=mention(actor, locale), n=goal.number, title=esc(goal.title)))
    fields = [
        _field("field.metric", f"{esc(goal.metric_name)} (K-{goal.metric_number})", locale),
        _field("field.target", _target(goal, locale), locale),
        _field("field.time_frame", f"{fmt_date(goal.start_on, today, locale, relative=False)} → "
                                   f"{fmt_date(goal.due_on, today, locale, relative=False)}", locale),
        _field("field.owner", mention(goal.owner_id, locale), locale),
    ]
    if goal.channel:
        fields.append(_field("field.channel", esc(goal.channel), locale))
    if goal.parent_number is not None:
        fields.append(_field("field.part_of", f"G-{goal.parent_number} {esc(goal.parent_title)}", locale))
    b.fields(fields)
    if goal.ratio_parts is not None:  # a ratio is logged as its two parts
        b.context(t("goal.created_hint_ratio", locale, num=esc(goal.ratio_parts[0]), den=esc(goal.ratio_parts[1]),
                    n=goal.number))
    else:
        b.context(t("goal.created_hint", locale, metric=esc(goal.metric_name), n=goal.number))
    reply = b.build(in_channel=True, text=t("goal.set_plain", locale, n=goal.number, title=esc(goal.title)))
    return _with(reply, goal_actions_block(goal.number, locale=locale))


def goal_list(items: list[tuple[GoalCard, Progress]], *, today: date, locale: str = DEFAULT_LOCALE) -> Reply:
    if not items:
        return Builder().section(f"*{t('goal.list.title', locale)}*\n" + t("goal.list.empty", locale)).build()
    b = Builder().section(f"*{t('goal.list.title', locale)}* · {len(items)}")
    b.lines_section(_fit([goal_progress_line(g, p, today, locale=locale) for g, p in items]))
    return b.build()


def goal_show(
    goal: GoalCard, progress: Progress, children: list[tuple[GoalCard, Progress]], *, today: date, locale: str = DEFAULT_LOCALE
) -> Reply:
    unit = goal.unit
    status = t("goal.closed_status", locale) if goal.status == "closed" else pace_label(progress.status, locale)
    b = Builder().header(f"G-{goal.number} {goal.title}")
    emoji = ":checkered_flag:" if goal.status == "closed" else PACE_EMOJI.get(progress.status or "", ":white_circle:")
    b.section(f"{emoji} *{status}* · `{bar(progress.percent_of_target)}`")
    source = t(f"goal.source.{progress.source}", locale)
    fields = [
        _field("field.current", _paren(fmt_number(progress.current, unit, locale), source, locale), locale),
        _field("field.target", _target(goal, locale), locale),
        _field("field.reached", t("goal.of_target", locale, pct=fmt_percent(progress.percent_of_target, locale)), locale),
        _field("field.time_elapsed", _paren(fmt_percent(progress.percent_of_time, locale),
                                            f"{fmt_date(goal.start_on, today, locale)} → {fmt_date(goal.due_on, today, locale)}", locale), locale),
        _field("field.metric", _paren(esc(goal.metric_name), f"K-{goal.metric_number}", locale)
               + (" · " + esc(goal.channel) if goal.channel else ""), locale),
        _field("field.owner", mention(goal.owner_id, locale), locale),
    ]
    if progress.projected is not None:
        projected = fmt_number(progress.projected, unit, locale)
        if progress.vs_baseline is not None:
            projected += t("goal.vs_baseline", locale, change=fmt_signed_percent(progress.vs_baseline, locale))
        fields.append(_field("field.projected", projected, locale))
    if progress.needed_per_day is not None:
        fields.append(_field("field.needed_per_day", fmt_number(progress.needed_per_day, unit, locale), locale))
    elif progress.needed_level is not None:
        fields.append(_field("field.needed_level", fmt_number(progress.needed_level, unit, locale), locale))
    if progress.confidence is not None:
        fields.append(_field("field.confidence", f"{progress.confidence}/10", locale))
    if goal.parent_number is not None:
        fields.append(_field("field.part_of", f"G-{goal.parent_number} {esc(goal.parent_title)}", locale))
    b.fields(fields)
    if children:
        b.section(f"*{t('goal.broken_down', locale)}*")
        b.lines_section(_fit([goal_progress_line(g, p, today, locale=locale) for g, p in children]))
    reply = b.build(text=t("goal.show_plain", locale, n=goal.number, title=esc(goal.title), current=fmt_number(progress.current, unit, locale),
                           target=fmt_number(goal.target, unit, locale), status=status))
    return _with(reply, goal_actions_block(goal.number, locale=locale) if goal.status != "closed" else None)


def goal_closed(goal: GoalCard, progress: Progress, *, changed: bool, today: date, actor: str, locale: str = DEFAULT_LOCALE) -> Reply:
    if not changed:
        return Builder().section(":information_source: " + t("goal.already_closed", locale, n=goal.number)).build()
    unit = goal.unit
    reached = progress.percent_of_target is not None and progress.percent_of_target >= 1
    icon = ":trophy:" if reached else ":checkered_flag:"
    text = icon + " " + t(
        "goal.closed", locale, actor=mention(actor, locale), n=goal.number, title=esc(goal.title),
        current=fmt_number(progress.current, unit, locale), target=fmt_number(goal.target, unit, locale),
        pct=fmt_percent(progress.percent_of_target, locale),
    )
    return Builder().section(text).context(t("goal.closed_hint", locale)).build(text=t("goal.closed_plain", locale, n=goal.number))


def goal_checked_in(goal: GoalCard, progress: Progress, *, today: date, actor: str, locale: str = DEFAULT_LOCALE) -> Reply:
    b = Builder().section(":white_check_mark: " + t("goal.checked_in", locale, n=goal.number, actor=mention(actor, locale)))
    b.section(goal_progress_line(goal, progress, today, locale=locale))
    reply = b.build(text=t("goal.checked_in_plain", locale, n=goal.number))
    return _with(reply, goal_actions_block(goal.number, locale=locale))


# ---- KPIs ----------------------------------------------------------------------------------------

def kpi_logged(logged: list[LoggedValue], *, today: date, locale: str = DEFAULT_LOCALE) -> Reply:
    lines = []
    notes = []
    for item in logged:
        m = item.metric
        channel = f" · {esc(item.channel)}" if item.channel else ""
        line = (_paren(f"*{esc(m.name)}*", f"K-{m.number}", locale)
                + f" = {fmt_number(item.value, m.unit, locale)}{channel} · {fmt_date(item.day, today, locale)}")
        if item.previous is not None:
            line += " — _" + t("kpi.replaced", locale, value=fmt_number(item.previous, m.unit, locale)) + "_"
        lines.append(line)
        if item.metric_created:
            notes.append(t("kpi.new_metric", locale, k=m.number, name=esc(m.name), agg=t(f"kpi.agg.{m.agg}", locale)))
    b = Builder().section(":bar_chart: " + t("kpi.logged_head", locale) + "\n" + "\n".join(lines))
    if notes:
        b.context(t("kpi.created_notes", locale, notes=t("list.semicolon", locale).join(notes)))
    replaced = sum(1 for i in logged if i.previous is not None)
    text = tn("kpi.logged_count", len(logged), locale) + (t("kpi.replaced_count", locale, n=replaced) if replaced else "")
    return b.build(text=text)


def describe_metric(metric: MetricCard, *, locale: str = DEFAULT_LOCALE) -> str:
    if metric.parts is not None:
        how = f"= {esc(metric.parts[0].name)} / {esc(metric.parts[1].name)}"
    else:
        how = t(f"kpi.agg.{metric.agg}", locale)
    unit = " · " + t("kpi.unit", locale, unit=esc(metric.unit)) if metric.unit else ""
    better = t("kpi.better.up" if metric.better == "up" else "kpi.better.down", locale)
    return f"*K-{metric.number} {esc(metric.name)}* {how}{unit} · {better}"


def kpi_defined(metric: MetricCard, *, created: bool, changed: list[str], locale: str = DEFAULT_LOCALE) -> Reply:
    """`/kpi define`'s answer: the metric as it is now, and what changed (`changed` names the settings)."""
    if created:
        head = t("kpi.defined", locale)
    elif changed:
        what = t("list.separator", locale).join(t(f"kpi.changed.{c}", locale) for c in changed)
        head = t("kpi.updated", locale, changed=what)
    else:
        head = t("kpi.no_change", locale)
    return Builder().section(f":straight_ruler: {head} {describe_metric(metric, locale=locale)}").build(
        text=f"{head} K-{metric.number} {esc(metric.name)}"
    )


def kpi_list(items: list[tuple[MetricCard, date | None]], *, today: date, locale: str = DEFAULT_LOCALE) -> Reply:
    title = t("kpi.list.title", locale)
    if not items:
        return Builder().section(f"*{title}*\n" + t("kpi.list.empty", locale)).build()
    lines = [
        describe_metric(m, locale=locale) + " · "
        + t("kpi.last_logged", locale, date=fmt_date(d, today, locale) if d else t("kpi.never", locale))
        for m, d in items
    ]
    return Builder().section(f"*{title}* · {len(items)}").lines_section(_fit(lines)).build()


def kpi_show(
    metric: MetricCard,
    current: PeriodValue,
    comparison: PeriodComparison,
    *,
    start: date,
    end: date,
    by_channel: bool,
    channel: str | None,
    goals: list[tuple[GoalCard, Progress]],
    today: date,
    locale: str = DEFAULT_LOCALE,
) -> Reply:
    unit = metric.unit
    title = f"{metric.name} · {_span(start, end, today, locale)}" + (f" · {channel}" if channel else "")
    b = Builder().header(title)
    # the headline is the whole period's value, today's values so far included; the change compares the days that
    # are over with as many before, and shows the two figures it compares
    headline = f"*{fmt_number(current.value, unit, locale)}*"
    if start <= today <= end and comparison.days > 0:
        headline += t("kpi.headline_today", locale, start=fmt_date(start, today, locale))
    lines = [headline]
    if comparison.change is not None:
        lines.append(_compared_line(metric, comparison, start=start, today=today, locale=locale))
    b.section("\n".join(lines))
    if comparison.change is not None and comparison.per_day and (
            comparison.days_logged < comparison.days or comparison.previous_days_logged < comparison.days):
        b.context(t("kpi.compared_days", locale, n=comparison.days, now=fmt_number(comparison.current, unit, locale),
                    logged=comparison.days_logged, before=fmt_number(comparison.previous, unit, locale),
                    before_logged=comparison.previous_days_logged))
    if comparison.reason == "none":
        b.context(t("kpi.no_compare_none", locale))
    elif comparison.reason == "thin":
        b.context(t("kpi.no_compare_thin", locale, days=comparison.days, logged=comparison.previous_days_logged))
    elif comparison.reason == "zero":
        b.context(t("kpi.no_compare_zero", locale, days=comparison.days, name=esc(metric.name)))
    elif comparison.reason == "missing" and current.value is not None:
        key = "kpi.no_compare_missing" if comparison.previous is None else "kpi.no_compare_missing_now"
        b.context(t(key, locale, days=comparison.days))
    if metric.parts is not None:
        num, den = metric.parts
        b.context(
            f"{esc(num.name)} {fmt_number(current.numerator, num.unit, locale)} ÷ "
            f"{esc(den.name)} {fmt_number(current.denominator, den.unit, locale)} "
            + t("kpi.from_summed_parts", locale)
        )
    if by_channel:
        rows = sorted(current.by_channel.items(), key=lambda kv: kv[1] if kv[1] is not None else Decimal(-1), reverse=True)
        if rows:
            b.lines_section(_fit(["• " + _labelled(esc(ch) or "_" + t("kpi.no_channel", locale) + "_", fmt_number(v, unit, locale), locale)
                                  for ch, v in rows]))
        else:
            b.context(t("kpi.no_channel_values", locale))
    for goal, progress in goals:
        b.section(goal_progress_line(goal, progress, today, locale=locale))
    if current.value is None:
        b.context(t("kpi.nothing_logged", locale, name=esc(metric.name)))
    span = _span(start, end, today, locale)
    return b.build(text=_labelled(esc(metric.name), _paren(fmt_number(current.value, unit, locale), span, locale), locale))


def _span(first: date, last: date, today: date, locale: str) -> str:
    """A span of days as a reply writes it: one day alone, or its first and last."""
    if first == last:
        return fmt_date(first, today, locale)
    return f"{fmt_date(first, today, locale)} – {fmt_date(last, today, locale)}"


def _compared_figure(value: Decimal | None, comparison: PeriodComparison, unit: str | None, locale: str) -> str:
    shown = fmt_number(value, unit, locale)
    return t("kpi.per_day", locale, value=shown) if comparison.per_day else shown


def _compared_line(metric: MetricCard, comparison: PeriodComparison, *, start: date, today: date, locale: str) -> str:
    """`-33%: 2% vs 3%, the 6 days over (Nov 17 – yesterday) vs the 6 days before (Nov 11 – Nov 16)
    :arrow_lower_right: :warning:`: the change and the two figures it is computed from (a summed metric's as its
    mean per day logged, "1,200 a day"), each with its days."""
    change = comparison.change
    assert change is not None
    good = (change >= 0) == (metric.better == "up")
    # a change that shows as 0% is flat: no arrow and no warning, as everywhere
    flat = fmt_signed_percent(change, locale) == fmt_signed_percent(Decimal(0), locale)
    marks = "" if flat else " " + (":arrow_upper_right:" if change > 0 else ":arrow_lower_right:")
    marks += "" if good or flat else " :warning:"
    n = comparison.days
    last = start + timedelta(days=n - 1)
    before_span = _span(start - timedelta(days=n), start - timedelta(days=1), today, locale)
    figures = {
        "change": fmt_signed_percent(change, locale), "marks": marks,
        "now": _compared_figure(comparison.now, comparison, metric.unit, locale),
        "before": _compared_figure(comparison.before, comparison, metric.unit, locale),
        "span": _span(start, last, today, locale), "before_span": before_span,
    }
    if comparison.days == comparison.period_days:
        return tn("kpi.compared_whole", n, locale, **figures)
    return tn("kpi.compared", n, locale, **figures)


def _pct(change: float, locale: str) -> str:
    return fmt_signed_percent(Decimal(str(round(change, 4))), locale)


def _gap_text(move: GmvMove, name: str, locale: str) -> str:
    """Why a move has no split, in words: no data in a period, or a part not logged or not positive there."""
    gap = move.reason
    if gap is None:
        return ""
    if gap.part is None:
        return t(f"kpi.why.gap.none.{gap.period}", locale)
    part = esc(name) if gap.part == "gmv" else t(f"kpi.why.part.{gap.part}", locale)
    if gap.amount is None:
        return t(f"kpi.why.gap.missing.{gap.period}", locale, part=part)
    return t(f"kpi.why.gap.zero.{gap.period}", locale, part=part, amount=fmt_number(gap.amount, None, locale))


def _split_text(move: GmvMove, locale: str, name: str = "GMV") -> str:
    split = move.split
    if split is None:
        return t("kpi.why.cannot", locale, reason=_gap_text(move, name, locale))
    parts = t("kpi.why.parts", locale, traffic=_pct(split.traffic.change, locale),
              conversion=_pct(split.conversion.change, locale), aov=_pct(split.aov.change, locale))
    if split.traffic.share is None or split.conversion.share is None or split.aov.share is None:
        return parts
    shares = " / ".join(f"{round(f.share * 100)}%" for f in (split.traffic, split.conversion, split.aov) if f.share is not None)
    return t("kpi.why.with_shares", locale, parts=parts, shares=t("kpi.why.shares", locale, shares=shares))


def kpi_why(
    metric: MetricCard, why: WhyItMoved, comparison: PeriodComparison, *, start: date, end: date, today: date,
    locale: str = DEFAULT_LOCALE,
) -> Reply:
    """`/kpi show gmv why`: the change split into traffic × conversion × AOV, overall and per channel."""
    b = Builder().header(t("kpi.why.title", locale, name=metric.name, span=_span(start, end, today, locale)))
    if why.moves is None:
        key = {"visits": "kpi.why.needs", "orders": "kpi.why.needs", "money": "kpi.why.money",
               "earlier": "kpi.why.no_earlier", "thin": "kpi.why.thin", "later": "kpi.why.no_later"}.get(
            why.missing or "", "kpi.why.no_days")
        said = t(key, locale, name=esc(metric.name), part=why.missing or "", days=comparison.days,
                 logged=comparison.previous_days_logged)
        b.section(said)
        return b.build(text=said)
    overall = why.moves.overall
    unit = metric.unit
    before, after = fmt_number(overall.before.gmv, unit, locale), fmt_number(overall.after.gmv, unit, locale)
    if why.per_day:  # a summed GMV is compared by its mean per day logged, as `/kpi show` compares it
        before, after = t("kpi.per_day", locale, value=before), t("kpi.per_day", locale, value=after)
    head = tn("kpi.why.overall", comparison.days, locale, name=esc(metric.name), before=before, after=after,
              days=comparison.days)
    if overall.split is not None:
        head += t("kpi.why.overall_change", locale, change=_pct(overall.split.change, locale))
    b.section(f"{head}\n{_split_text(overall, locale, metric.name)}")
    lines = []
    for move in why.moves.channels[:20]:
        name = esc(move.channel) if move.channel else "_" + t("kpi.no_channel", locale) + "_"
        change = t("kpi.why.overall_change", locale, change=_pct(move.split.change, locale)) if move.split is not None else ""
        lines.append(t("kpi.why.channel_line", locale, name=name, change=change, split=_split_text(move, locale, metric.name)))
    if lines:
        b.lines_section(lines)
    b.context(t("kpi.why.formula", locale))
    return b.build(text=_labelled(esc(metric.name), _split_text(overall, locale, metric.name), locale))


# ---- campaigns -----------------------------------------------------------------------------------

PHASE_EMOJI = {"upcoming": ":calendar:", "live": ":rocket:", "ended": ":hourglass:", "closed": ":checkered_flag:"}


def phase_label(value: str, locale: str = DEFAULT_LOCALE) -> str:
    return t(f"campaign.phase.{value}", locale)


class CampaignLike(Protocol):
    """What a campaign's line shows of the campaign (a CampaignCard in messages, a HomeCampaign on the App Home)."""

    @property
    def number(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def phase(self) -> str: ...
    @property
    def start_on(self) -> date: ...
    @property
    def end_on(self) -> date: ...
    @property
    def channels(self) -> tuple[str, ...]: ...
    @property
    def budget(self) -> Decimal | None: ...
    @property
    def currency(self) -> str | None: ...
    @property
    def spend(self) -> Decimal: ...


def _budget_line(s: CampaignLike, locale: str = DEFAULT_LOCALE) -> str:
    cur = s.currency or None
    if s.budget:
        used = s.spend / s.budget
        return t("campaign.budget_used", locale, spend=fmt_number(s.spend, cur, locale), budget=fmt_number(s.budget, cur, locale),
                 pct=fmt_percent(used, locale))
    return t("campaign.no_budget", locale, spend=fmt_number(s.spend, cur, locale))


def campaign_line(s: CampaignLike, today: date, *, locale: str = DEFAULT_LOCALE) -> str:
    p = s.phase
    channels = " · " + t("list.separator", locale).join(esc(ch) for ch in s.channels) if s.channels else ""
    return (
        f"{PHASE_EMOJI[p]} *C-{s.number}* {esc(s.name)} · {phase_label(p, locale)} · "
        f"{fmt_date(s.start_on, today, locale)} → {fmt_date(s.end_on, today, locale)}{channels} · {_budget_line(s, locale)}"
    )


def campaign_created(s: CampaignCard, *, today: date, actor: str, locale: str = DEFAULT_LOCALE) -> Reply:
    b = Builder().section(":rocket: " + t("campaign.added", locale, actor=mention(actor, locale), n=s.number, name=esc(s.name)))
    b.fields(_campaign_fields(s, today, locale, relative=False))  # it stays in the channel: no "today"
    b.context(t("campaign.created_hint", locale, n=s.number))
    return b.build(in_channel=True, text=t("campaign.added_plain", locale, n=s.number, name=esc(s.name)))


def _campaign_fields(s: CampaignCard, today: date, locale: str = DEFAULT_LOCALE, *, relative: bool = True) -> list[str]:
    fields = [
        _field("field.dates", t("campaign.dates_phase", locale, start=fmt_date(s.start_on, today, locale, relative=relative),
                                end=fmt_date(s.end_on, today, locale, relative=relative), phase=phase_label(s.phase, locale)),
               locale),
        _field("field.budget", _budget_line(s, locale), locale),
    ]
    if s.channels:
        fields.append(_field("field.channels", t("list.separator", locale).join(esc(ch) for ch in s.channels), locale))
    if s.theme:
        fields.append(_field("field.theme", esc(s.theme), locale))
    if s.audience:
        fields.append(_field("field.audience", esc(s.audience), locale))
    if s.goals:
        fields.append(_field("field.goals", "\n".join(f"G-{number} {esc(title)}" for number, title in s.goals), locale))
    if s.revenue is not None:
        fields.append(_paren(f"*{t('field.revenue', locale)}*", esc(s.revenue_metric), locale) + f"\n{fmt_number(s.revenue, s.currency, locale)}")
    if s.roi is not None:
        fields.append(_field("field.roi", fmt_percent(s.roi, locale), locale))
    return fields


def campaign_list(items: list[CampaignCard], *, today: date, locale: str = DEFAULT_LOCALE) -> Reply:
    title = t("campaign.list.title", locale)
    if not items:
        return Builder().section(f"*{title}*\n" + t("campaign.list.empty", locale)).build()
    return Builder().section(f"*{title}* · {len(items)}").lines_section(_fit([campaign_line(s, today, locale=locale) for s in items])).build()


def campaign_show(s: CampaignCard, *, today: date, locale: str = DEFAULT_LOCALE) -> Reply:
    b = Builder().header(f"C-{s.number} {s.name}")
    b.fields(_campaign_fields(s, today, locale))
    if s.spend_by_channel and len(s.spend_by_channel) > 1:
        unassigned = "_" + t("campaign.unassigned_channel", locale) + "_"
        b.section(f"*{t('campaign.spend_by_channel', locale)}*\n" + "\n".join(
            "• " + _labelled(esc(ch) or unassigned, fmt_number(v, s.currency, locale), locale) for ch, v in sorted(s.spend_by_channel.items())
        ))
    b.section(f"*{t('campaign.tasks', locale)}* · " + t("campaign.tasks_count", locale, open=s.open_tasks, done=s.done_tasks))
    if s.risks:
        b.section(f"*{t('campaign.risks', locale)}*\n" + "\n".join(f"• {esc(risk)}" for risk in s.risks[-10:]))
    if s.documents:
        b.section(f"*{t('campaign.documents', locale)}*\n" + "\n".join(f"• {link(url, title)}" for url, title in s.documents[-10:]))
    return b.build(text=t("campaign.show_plain", locale, n=s.number, name=esc(s.name), phase=phase_label(s.phase, locale),
                          budget=_budget_line(s, locale)))


def campaign_closed(s: CampaignCard, *, changed: bool, today: date, actor: str, locale: str = DEFAULT_LOCALE) -> Reply:
    if not changed:
        return Builder().section(":information_source: " + t("campaign.already_closed", locale, n=s.number)).build()
    b = Builder().section(":checkered_flag: " + t("campaign.closed", locale, actor=mention(actor, locale), n=s.number, name=esc(s.name)))
    b.fields(_campaign_fields(s, today, locale))
    b.context(t("campaign.closed_hint", locale, n=s.number))
    return b.build(text=t("campaign.closed_plain", locale, n=s.number))


def campaign_spent(s: CampaignCard, row: SpendEntry, *, today: date, locale: str = DEFAULT_LOCALE) -> Reply:
    channel = t("campaign.spend_on", locale, channel=esc(row.channel)) if row.channel else ""
    roi = f" · ROI {fmt_percent(s.roi, locale)}" if s.roi is not None else ""
    return Builder().section(
        ":money_with_wings: " + t("campaign.spent", locale, amount=fmt_number(row.amount, s.currency, locale), channel=channel,
                                  n=s.number, name=esc(s.name), date=fmt_date(row.day, today, locale), budget=_budget_line(s, locale))
        + roi
    ).build(text=t("campaign.spent_plain", locale, n=s.number))


def campaign_noted(number: int, name: str, note: str, *, raw: bool = False, locale: str = DEFAULT_LOCALE) -> Reply:
    """A risk or a document added to campaign C-`number`, `name` as typed."""
    shown = note if raw else esc(note)
    return Builder().section(":pushpin: " + _labelled(f"*C-{number}* {esc(name)}", shown, locale)).build(
        text=_labelled(f"C-{number}", shown, locale))


# ---- feedback ------------------------------------------------------------------------------------

def feedback_line(row: FeedbackItem, today: date, *, locale: str = DEFAULT_LOCALE) -> str:
    tags = " ".join(f"`#{esc(tag)}`" for tag in row.tags)
    links = []
    if row.campaign_number is not None:
        links.append(f"C-{row.campaign_number}")
    if row.goal_number is not None:
        links.append(f"G-{row.goal_number}")
    icon = ":speech_balloon:" if row.source == "customer" else ":busts_in_silhouette:"
    source = t(f"feedback.source.{row.source}", locale) if row.source in ("customer", "team") else row.source
    link = f"<{row.permalink}|{t('feedback.source_message', locale)}>" if row.permalink else ""
    meta = " · ".join(x for x in [source, t("list.separator", locale).join(links), tags, link] if x)
    return f"{icon} *F-{row.number}* {esc(row.text)}\n      {meta}"


def feedback_created(row: FeedbackItem, *, locale: str = DEFAULT_LOCALE) -> Reply:
    head = ":inbox_tray: " + t("feedback.recorded", locale, n=row.number)
    return Builder().section(f"{head}\n{feedback_line(row, date.today(), locale=locale)}").build(
        text=t("feedback.recorded_plain", locale, n=row.number)
    )


def feedback_list(rows: list[FeedbackItem], *, today: date, tag: str | None, locale: str = DEFAULT_LOCALE) -> Reply:
    title = f"*{t('feedback.list.title', locale)}*" + (t("feedback.list.tagged", locale, tag=esc(tag)) if tag else "")
    if not rows:
        return Builder().section(f"{title}\n" + t("feedback.list.empty", locale)).build()
    head = f"{title} · " + t("feedback.list.latest", locale, n=len(rows))
    return Builder().section(head).lines_section(_fit([feedback_line(r, today, locale=locale) for r in rows])).build()


# ---- help ----------------------------------------------------------------------------------------

def bot_help(commands: Sequence[tuple[str, str, str]], *, locale: str = DEFAULT_LOCALE) -> Reply:
    """`/mkt help`: each command's name, its one-line summary (a catalog key) and an example, in that order."""
    b = Builder().header(t("help.header", locale))
    b.section(t("help.intro", locale))
    for command, key, example in commands:
        b.section(f"*{command}* — {t(key, locale)}\n`{example}`")
    b.context(t("help.refs", locale))
    return b.build()


# ---- small private answers to clicks and modals --------------------------------------------------

def notice(text: str) -> Reply:
    """A one-line private answer (already done, closed meanwhile, …)."""
    return Builder().section(text).build(text=text)
