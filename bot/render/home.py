"""The App Home tab: one person's open tasks (overdue first), the goals they own with pace, live campaigns and
the latest KPI chart.

A pure function of `bot.services.home.HomeData` (plain values, no database rows) to a `views.publish` view, at most 100 blocks, every section under 3,000
characters, long lists cut with "and N more".
"""

from __future__ import annotations

from datetime import date
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    ImageBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.i18n import DEFAULT_LOCALE, t, tn
from bot.i18n.fmt import fmt_day
from bot.ids import ActionId, BlockId, record_block
from bot.render.views import (
    button,
    campaign_line,
    goal_progress_line,
    task_line,
    task_menu,
)
from bot.services.home import HomeData, HomeGoal, HomeTask
from bot.slack_text import truncate

MAX_HOME_BLOCKS = 100
SECTION_TEXT = 3000
MAX_TASKS = 40
MAX_GOALS = 20
MAX_CAMPAIGNS = 15


def _section(text: str, *, block_id: str | None = None, accessory: Any = None) -> SectionBlock:
    return SectionBlock(block_id=block_id, text=MarkdownTextObject(text=truncate(text, SECTION_TEXT)), accessory=accessory)


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=truncate(text, SECTION_TEXT))])


def sort_tasks(tasks: list[HomeTask], today: date) -> list[HomeTask]:
    """Overdue first (oldest due first), then by due date, undated last."""
    def key(task: HomeTask) -> tuple[int, date, int]:
        if task.due_on is None:
            return (2, date.max, task.number)
        return (0 if task.due_on < today else 1, task.due_on, task.number)

    return sorted((task for task in tasks if task.status != "done"), key=key)


def goal_line(goal: HomeGoal, today: date, *, locale: str = DEFAULT_LOCALE) -> str:
    return goal_progress_line(goal, goal.progress, today, locale=locale)


def home_view(data: HomeData, *, locale: str = DEFAULT_LOCALE, notice: str | None = None) -> dict[str, Any]:
    """`data.chart_file_id` (a file the bot uploaded, shown with Block Kit's `slack_file`) wins over `data.chart_url`."""
    today, tasks, goals, campaigns = data.today, data.tasks, data.goals, data.campaigns
    chart_file_id, chart_url, chart_title = data.chart_file_id, data.chart_url, data.chart_title
    blocks: list[Block] = [HeaderBlock(text=PlainTextObject(text=truncate(t("home.header", locale), 150), emoji=True))]
    blocks.append(_context(t("home.updated", locale, date=fmt_day(today, locale), user=f"<@{data.user_id}>")))
    if notice:
        blocks.append(_section(notice))
    blocks.append(ActionsBlock(block_id=BlockId.HOME_ACTIONS, elements=[
        button(t("button.add_task", locale), ActionId.HOME_ADD_TASK, "home", style="primary"),
        button(t("button.add_goal", locale), ActionId.HOME_ADD_GOAL, "home"),
    ]))

    # ---- tasks
    ordered = sort_tasks(tasks, today)
    total = max(data.total_tasks or 0, len(ordered))
    overdue = sum(1 for task in ordered if task.due_on is not None and task.due_on < today)
    blocks.append(DividerBlock())
    head = f"*{t('home.tasks', locale)}* · {tn('task.count', total, locale)}"
    if overdue:
        head += f" · {t('task.overdue_count', locale, n=overdue)}"
    blocks.append(_section(head))
    if not ordered:
        blocks.append(_context(t("home.no_tasks", locale)))
    for task in ordered[:MAX_TASKS]:
        blocks.append(_section(task_line(task, today, locale=locale), block_id=record_block(BlockId.HOME_TASK, f"T-{task.number}"),
                               accessory=task_menu(task.number, task.status, task.due_on, locale=locale)))
    if total > MAX_TASKS:
        blocks.append(_context(t("home.more_tasks", locale, n=total - min(MAX_TASKS, len(ordered)))))

    # ---- goals
    blocks.append(DividerBlock())
    goal_total = max(data.total_goals or 0, len(goals))
    blocks.append(_section(f"*{t('home.goals', locale)}* · {goal_total}"))
    if not goals:
        blocks.append(_context(t("home.no_goals", locale)))
    for goal in goals[:MAX_GOALS]:
        blocks.append(_section(
            goal_line(goal, today, locale=locale),
            block_id=record_block(BlockId.HOME_GOAL, f"G-{goal.number}"),
            accessory=button(t("button.checkin", locale), ActionId.GOAL_CHECKIN, f"G-{goal.number}"),
        ))
    if goal_total > MAX_GOALS:
        blocks.append(_context(t("home.more_goals", locale, n=goal_total - min(MAX_GOALS, len(goals)))))

    # ---- campaigns: one section of lines, split only when it would pass 3,000 characters
    blocks.append(DividerBlock())
    campaign_total = max(data.total_campaigns or 0, len(campaigns))
    blocks.append(_section(f"*{t('home.campaigns', locale)}* · {campaign_total}"))
    if not campaigns:
        blocks.append(_context(t("home.no_campaigns", locale)))
    chunk: list[str] = []
    for campaign in campaigns[:MAX_CAMPAIGNS]:
        line = campaign_line(campaign, today, locale=locale)
        if chunk and len("\n".join([*chunk, line])) > SECTION_TEXT:
            blocks.append(_section("\n".join(chunk)))
            chunk = []
        chunk.append(line)
    if chunk:
        blocks.append(_section("\n".join(chunk)))
    if campaign_total > MAX_CAMPAIGNS:
        blocks.append(_context(t("home.more_campaigns", locale, n=campaign_total - min(MAX_CAMPAIGNS, len(campaigns)))))

    if chart_file_id or chart_url:
        title = chart_title or t("home.chart", locale)
        source: dict[str, Any] = {"slack_file": {"id": chart_file_id}} if chart_file_id else {"image_url": chart_url}
        blocks.append(DividerBlock())
        blocks.append(ImageBlock(block_id=BlockId.HOME_CHART, alt_text=truncate(title, 2000),
                                 title=PlainTextObject(text=truncate(title, 2000)), **source))
    blocks.append(_context(t("home.footer", locale)))

    if len(blocks) > MAX_HOME_BLOCKS:  # cannot happen with the caps above; kept as a guard for future sections
        blocks = [*blocks[: MAX_HOME_BLOCKS - 1], _context(t("home.truncated", locale))]
    view = View(type="home", blocks=blocks)
    view.validate_json()
    return view.to_dict()
