"""Interactive Slack: modals, buttons, the App Home tab and message shortcuts.

Shape of every flow:
- a click or a shortcut is acknowledged at once; the work runs in a lazy listener (which may call
  users.info, open a modal with the trigger_id, answer through the response_url);
- a modal submission is validated and written on the ack path, because field errors must travel back
  in the acknowledgement (`response_action: errors`); what follows it (the private confirmation, the
  refreshed Home, the updated message) is described in `context["after"]` and done by a lazy listener.

Form parsers (`parse_*_form`) are pure: state values in, a service's input dataclass out, or
`FieldErrors`. Records are always looked up by the reference in the button or option ("T-12") within
the clicking user's workspace (team id), never by a database id.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.errors import NotFound, UserError
from bot.i18n import DEFAULT_LOCALE, mention, t
from bot.ids import ActionId, BlockId, CallbackId, record_block
from bot.locale import Locales
from bot.render import home as home_render
from bot.render import modals, views
from bot.render.reply import Reply
from bot.render.text import esc, esc_keep_mentions, truncate
from bot.runtime import Runtime
from bot.services import campaigns as campaign_service
from bot.services import chart_files
from bot.services import feedback as feedback_service
from bot.services import goals as goal_service
from bot.services import kpis as kpi_service
from bot.services import retros as retro_service
from bot.services import tasks as task_service
from bot.services.campaigns import phase
from bot.services.refs import get_by_number
from commands.grammar import ParseError, parse_date, parse_number, parse_ref
from storage.models import Campaign, Goal, Task

log = logging.getLogger(__name__)

JSON = dict[str, Any]
FIELD = ActionId.FIELD

# private_metadata keys (short: the whole thing must stay under 3,000 characters)
M_CHANNEL, M_LOCALE, M_ORIGIN, M_REF, M_URL, M_TS, M_EPHEMERAL, M_PERMALINK = "c", "l", "o", "r", "u", "ts", "e", "p"
ORIGIN_COMMAND, ORIGIN_HOME, ORIGIN_MESSAGE, ORIGIN_SHORTCUT = "cmd", "home", "msg", "shortcut"

TASK_ACTIONS = {
    ActionId.TASK_START: "start",
    ActionId.TASK_DONE: "done",
    ActionId.TASK_BLOCK: "block",
    ActionId.TASK_SNOOZE: "snooze",
}
RETRO_PREFIX = {"well": "went well:", "not": "didn't:", "try": "try:", "action": "action:", "note": ""}
HOME_GOAL_LIMIT = 25
HOME_CAMPAIGN_LIMIT = 20
TITLE_PREFILL = 200


class FieldErrors(Exception):
    """Errors keyed by the input block they belong to; the modal shows each under its field."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = {k: truncate(v, 300) for k, v in errors.items()}


# ---- reading a submission ------------------------------------------------------------------------

def _state(values: JSON, block: BlockId) -> JSON:
    entry = (values.get(block) or {}).get(FIELD)
    return entry if isinstance(entry, dict) else {}


def text_value(values: JSON, block: BlockId) -> str:
    raw = _state(values, block).get("value")
    return raw.strip() if isinstance(raw, str) else ""  # a forged non-string reads as left empty


def date_value(values: JSON, block: BlockId, locale: str) -> date | None:
    raw = _state(values, block).get("selected_date")
    if not raw:
        return None
    try:
        if isinstance(raw, str) and len(raw) == 10:
            return date.fromisoformat(raw)
    except ValueError:
        pass
    raise FieldErrors({block: t("error.form_date", locale, value=str(raw)[:40])})


def user_value(values: JSON, block: BlockId) -> str | None:
    raw = _state(values, block).get("selected_user")
    return raw if isinstance(raw, str) and raw else None


def option_value(values: JSON, block: BlockId) -> str | None:
    option = _state(values, block).get("selected_option")
    return str(option["value"]) if isinstance(option, dict) and option.get("value") else None


def _ref(value: str | None, kind: str) -> int | None:
    return parse_ref(value, kind) if value else None


def _number(values: JSON, block: BlockId, errors: dict[str, str], locale: str, *, required: bool) -> Any:
    raw = text_value(values, block)
    if not raw:
        if required:
            errors[block] = t("error.required", locale)
        return None
    try:
        return parse_number(raw)
    except ParseError as exc:
        errors[block] = t("error.number", locale, value=raw, detail=exc.text(locale))
        return None


# ---- pure form parsers ---------------------------------------------------------------------------

def parse_task_form(values: JSON, *, locale: str, channel_id: str | None, permalink: str | None = None) -> task_service.TaskCreate:
    errors: dict[str, str] = {}
    title = " ".join(text_value(values, BlockId.TITLE).split())
    if not title:
        errors[BlockId.TITLE] = t("error.task_title", locale)
    start, due = date_value(values, BlockId.START, locale), date_value(values, BlockId.DUE, locale)
    if start and due and due < start:
        errors[BlockId.DUE] = t("error.due_before_start", locale, due=due.isoformat(), start=start.isoformat())
    if errors:
        raise FieldErrors(errors)
    return task_service.TaskCreate(
        title=title,
        owner_id=user_value(values, BlockId.OWNER),
        due_on=due,
        start_on=start,
        campaign=_ref(option_value(values, BlockId.CAMPAIGN), "campaign"),
        goal=_ref(option_value(values, BlockId.GOAL), "goal"),
        source_permalink=permalink,
        slack_channel_id=channel_id,
    )


def parse_goal_form(values: JSON, *, locale: str, today: date, channel_id: str | None) -> goal_service.GoalCreate:
    errors: dict[str, str] = {}
    title = " ".join(text_value(values, BlockId.TITLE).split())
    if not title:
        errors[BlockId.TITLE] = t("error.goal_title", locale)
    picked, typed = option_value(values, BlockId.METRIC), text_value(values, BlockId.NEW_METRIC)
    has_select = BlockId.METRIC in values
    metric = typed or picked
    if picked and typed and kpi_service.metric_key(picked) != kpi_service.metric_key(typed):
        errors[BlockId.NEW_METRIC] = t("error.metric_both", locale)
    elif not metric:
        errors[BlockId.METRIC if has_select else BlockId.NEW_METRIC] = t("error.metric_missing", locale)
    target = _number(values, BlockId.TARGET, errors, locale, required=True)
    baseline = _number(values, BlockId.BASELINE, errors, locale, required=False)
    due = date_value(values, BlockId.DUE, locale)
    start = date_value(values, BlockId.START, locale)
    if due is None:
        errors[BlockId.DUE] = t("error.required", locale)
    elif start is not None and due < start:
        errors[BlockId.DUE] = t("error.deadline_before_start", locale, due=due.isoformat(), start=start.isoformat())
    elif start is None and due < today:
        errors[BlockId.DUE] = t("error.deadline_past", locale, due=due.isoformat())
    if errors:
        raise FieldErrors(errors)
    assert due is not None and metric
    return goal_service.GoalCreate(
        title=title,
        metric=metric,
        target=target.value,
        target_percent=target.percent,
        currency=target.currency,
        due_on=due,
        start_on=start or today,
        baseline=baseline.value if baseline is not None else None,
        owner_id=user_value(values, BlockId.OWNER),
        parent=_ref(option_value(values, BlockId.PARENT), "goal"),
        channel=text_value(values, BlockId.CHANNEL) or None,
        slack_channel_id=channel_id,
    )


def parse_campaign_form(values: JSON, *, locale: str, channel_id: str | None) -> campaign_service.CampaignCreate:
    errors: dict[str, str] = {}
    name = " ".join(text_value(values, BlockId.NAME).split())
    if not name:
        errors[BlockId.NAME] = t("error.campaign_name", locale)
    start, end = date_value(values, BlockId.START, locale), date_value(values, BlockId.END, locale)
    if start is None:
        errors[BlockId.START] = t("error.required", locale)
    if end is None:
        errors[BlockId.END] = t("error.required", locale)
    elif start is not None and end < start:
        errors[BlockId.END] = t("error.end_before_start", locale, end=end.isoformat(), start=start.isoformat())
    budget = _number(values, BlockId.BUDGET, errors, locale, required=False)
    if budget is not None and budget.percent:
        errors[BlockId.BUDGET] = t("error.budget_percent", locale)
    elif budget is not None and budget.value < 0:
        errors[BlockId.BUDGET] = t("error.budget_negative", locale)
    if errors:
        raise FieldErrors(errors)
    assert start is not None and end is not None
    channels = [c.strip() for c in re.split(r"[,，、]", text_value(values, BlockId.CHANNELS)) if c.strip()]
    return campaign_service.CampaignCreate(
        name=name,
        start_on=start,
        end_on=end,
        channels=channels,
        budget=budget.value if budget is not None else None,
        currency=budget.currency if budget is not None else None,
        goal=_ref(option_value(values, BlockId.GOAL), "goal"),
        audience=text_value(values, BlockId.AUDIENCE) or None,
        theme=text_value(values, BlockId.THEME) or None,
        slack_channel_id=channel_id,
    )


def parse_tags_text(text: str) -> list[str]:
    """"#checkout #移动端", "checkout, mobile" → ["checkout", "移动端"] (as typed, without the #)."""
    return [tag.lstrip("#＃") for tag in re.split(r"[\s,，、]+", text) if tag.lstrip("#＃")]


def parse_feedback_form(values: JSON, *, locale: str, permalink: str | None = None) -> feedback_service.FeedbackCreate:
    body = text_value(values, BlockId.TEXT)
    if not body:
        raise FieldErrors({BlockId.TEXT: t("error.feedback_text", locale)})
    source = option_value(values, BlockId.SOURCE) or "team"
    if source not in ("customer", "team"):
        raise FieldErrors({BlockId.SOURCE: t("error.required", locale)})
    return feedback_service.FeedbackCreate(
        text=body,
        source=source,
        tags=parse_tags_text(text_value(values, BlockId.TAGS)),
        campaign=_ref(option_value(values, BlockId.CAMPAIGN), "campaign"),
        goal=_ref(option_value(values, BlockId.GOAL), "goal"),
        permalink=permalink,
    )


@dataclass(frozen=True)
class CheckinForm:
    value: Any  # grammar.Number
    confidence: int | None
    note: str | None


def parse_checkin_form(values: JSON, *, locale: str) -> CheckinForm:
    errors: dict[str, str] = {}
    value = _number(values, BlockId.VALUE, errors, locale, required=True)
    raw_confidence = option_value(values, BlockId.CONFIDENCE)
    confidence = None
    if raw_confidence is not None:
        if not raw_confidence.isdigit() or not 1 <= int(raw_confidence) <= 10:
            errors[BlockId.CONFIDENCE] = t("error.confidence", locale)
        else:
            confidence = int(raw_confidence)
    if errors:
        raise FieldErrors(errors)
    return CheckinForm(value=value, confidence=confidence, note=text_value(values, BlockId.NOTE) or None)


def parse_retro_note_form(values: JSON, *, locale: str) -> str:
    """The note as the line a person would have typed in the thread ("went well: …", "action: <@U…> … due:…")."""
    category = option_value(values, BlockId.CATEGORY) or "note"
    text = text_value(values, BlockId.TEXT)
    if not text:
        raise FieldErrors({BlockId.TEXT: t("error.required", locale)})
    if category != "note":
        text = " ".join(text.split())  # one line: the category prefix applies to all of it
    prefix = RETRO_PREFIX.get(category, "")
    owner = user_value(values, BlockId.OWNER)
    due = date_value(values, BlockId.DUE, locale)
    if category == "action":
        if owner:
            text += f" <@{owner}>"
        if due:
            text += f" due:{due.isoformat()}"
    return f"{prefix} {text}".strip() if prefix else text


# ---- lookups -------------------------------------------------------------------------------------

def _check_refs(session: Session, workspace_id: str, locale: str, refs: dict[BlockId, tuple[type[Any], str, int | None]]) -> None:
    """The campaign or goal picked in a select may have gone meanwhile: say so under that field."""
    errors: dict[str, str] = {}
    for block, (model, kind, number) in refs.items():
        if number is None:
            continue
        try:
            get_by_number(session, model, workspace_id=workspace_id, number=number, kind=kind)
        except NotFound:
            errors[block] = t("error.gone", locale, ref=f"{'C' if kind == 'campaign' else 'G'}-{number}")
    if errors:
        raise FieldErrors(errors)


def _locked_task(session: Session, workspace_id: str, number: int) -> Task:
    """The task, row-locked for this transaction (PostgreSQL), so two clicks at once cannot both change it."""
    return task_service.get_task(session, workspace_id=workspace_id, number=number, for_update=True)


def load_choices(session: Session, workspace_id: str) -> modals.Choices:
    """Open campaigns, active goals and every metric of the workspace, newest first when there are over 100."""
    def newest(rows: list[Any]) -> list[Any]:
        return sorted(sorted(rows, key=lambda r: r.number, reverse=True)[: modals.MAX_OPTIONS], key=lambda r: r.number)

    campaigns = newest(campaign_service.list_campaigns(session, workspace_id=workspace_id))
    goals = newest(goal_service.list_goals(session, workspace_id=workspace_id))
    metrics = newest(kpi_service.list_metrics(session, workspace_id=workspace_id))
    return modals.Choices(
        campaigns=[modals.Choice(f"C-{c.number}", f"C-{c.number} {c.name}") for c in campaigns],
        goals=[modals.Choice(f"G-{g.number}", f"G-{g.number} {g.title}") for g in goals],
        metrics=[modals.Choice(m.name, f"{m.name} (K-{m.number})") for m in metrics],
    )


def team_of(body: JSON) -> str:
    team = body.get("team")
    if isinstance(team, dict) and team.get("id"):
        return str(team["id"])
    user = body.get("user")
    if isinstance(user, dict) and user.get("team_id"):
        return str(user["team_id"])
    return str(body.get("team_id") or "")


def user_of(body: JSON) -> str:
    user = body.get("user")
    if isinstance(user, dict):
        return str(user.get("id") or "")
    return str(body.get("user_id") or user or "")


def slack_text(text: str) -> str:
    """A message's text as a person reads it: Slack's &amp;, &lt; and &gt; undone, <@U…|name> shown as @name."""
    text = re.sub(r"<@([UW][A-Z0-9]+)\|([^>]+)>", r"@\2", text)
    text = re.sub(r"<(https?://[^|>]+)\|([^>]+)>", r"\2 (\1)", text)
    text = re.sub(r"<(https?://[^>]+)>", r"\1", text)
    return html.unescape(text)


def first_line(text: str, limit: int = TITLE_PREFILL) -> str:
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    return truncate(" ".join(line.split()), limit)


# ---- the listeners -------------------------------------------------------------------------------

class Interactive:
    """Listeners for one app; they read the runtime from the app, so ack and lazy halves share one object."""

    def __init__(self, app: App, locales: Locales) -> None:
        self.app = app
        self.locales = locales

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.app.runtime  # type: ignore[attr-defined]
        return runtime

    def today(self) -> date:
        rt = self.runtime
        return rt.clock().astimezone(rt.zone).date()

    def user_locale(self, client: WebClient, team: str, user: str) -> str:
        return self.locales.resolve(client, self.runtime.db, team, user)

    def shared_locale(self, team: str) -> str:
        """Messages everyone sees speak the workspace's language, whoever clicked."""
        return self.locales.workspace_default(self.runtime.db, team)

    # ---- App Home --------------------------------------------------------------------------------

    def publish_home(self, client: WebClient, team: str, user: str, *, locale: str | None = None, notice: str | None = None) -> None:
        if not team or not user:
            return
        locale = locale or self.user_locale(client, team, user)
        today = self.today()
        with self.runtime.db.session(write=False) as session:
            tasks = task_service.list_tasks(
                session, workspace_id=team, filters=task_service.TaskFilter(owner_id=user), today=today,
                limit=home_render.MAX_TASKS,  # ordered by due date: the overdue ones come first
            )
            open_count = session.scalar(
                select(func.count()).select_from(Task).where(Task.workspace_id == team, Task.owner_id == user, Task.status != "done")
            )
            owned = [g for g in goal_service.list_goals(session, workspace_id=team) if g.owner_id == user]
            goals = [(g, goal_service.progress(session, goal=g, today=today)) for g in owned[:HOME_GOAL_LIMIT]]
            live = [c for c in campaign_service.list_campaigns(session, workspace_id=team) if phase(c, today) == "live"]
            summaries = [campaign_service.summary(session, campaign=c) for c in live[:HOME_CAMPAIGN_LIMIT]]
            chart = chart_files.latest(session, team)
            view = home_render.home_view(
                user_id=user, today=today, tasks=tasks, goals=goals, campaigns=summaries, locale=locale,
                total_tasks=int(open_count or 0), total_goals=len(owned), total_campaigns=len(live), notice=notice,
                chart_file_id=chart.file_id if chart else None, chart_title=chart.title if chart else None,
            )
        try:
            client.views_publish(user_id=user, view=view)
        except SlackApiError as exc:
            log.warning("views.publish for %s failed: %s", user, exc.response.get("error"))

    def refresh_homes(self, client: WebClient, team: str, users: list[str | None], *, skip: str | None = None) -> None:
        for user in dict.fromkeys(u for u in users if u and u != skip):
            self.publish_home(client, team, user)

    def on_home_opened(self, body: JSON, event: JSON, client: WebClient) -> None:
        if event.get("tab", "home") != "home":
            return
        self.publish_home(client, str(body.get("team_id") or ""), str(event.get("user") or ""))

    # ---- opening modals --------------------------------------------------------------------------

    def _open(self, client: WebClient, body: JSON, view: JSON, respond: Respond | None, locale: str) -> bool:
        """Open `view` for the person who clicked, its private_metadata sealed for their workspace."""
        view = {**view, "private_metadata": modals.seal_metadata(
            str(view.get("private_metadata") or ""), team=team_of(body), key=self.runtime.seal_key)}
        try:
            client.views_open(trigger_id=body.get("trigger_id") or "", view=view)
            return True
        except SlackApiError as exc:
            log.warning("views.open failed: %s %s", exc.response.get("error"), exc.response.get("response_metadata"))
            if respond is not None:
                respond(text=t("modal.open_failed", locale), response_type="ephemeral", replace_original=False)
            return False

    def record_modal(self, kind: str, *, locale: str, team: str, metadata: JSON, owner: str | None = None,
                     task_prefill: modals.TaskPrefill | None = None, feedback_prefill: modals.FeedbackPrefill | None = None) -> JSON:
        with self.runtime.db.session(write=False) as session:
            choices = load_choices(session, team)
        metadata = {**metadata, M_LOCALE: locale}
        if kind == "task":
            return modals.task_modal(locale=locale, choices=choices, metadata=metadata,
                                     prefill=task_prefill or modals.TaskPrefill(owner=owner))
        if kind == "goal":
            return modals.goal_modal(locale=locale, choices=choices, metadata=metadata, owner=owner)
        if kind == "campaign":
            return modals.campaign_modal(locale=locale, choices=choices, metadata=metadata)
        return modals.feedback_modal(locale=locale, choices=choices, metadata=metadata, prefill=feedback_prefill)

    def open_command_modal(self, body: JSON, client: WebClient, respond: Respond) -> None:
        """Lazy half of `/task`, `/goal`, `/campaign`, `/feedback` typed with nothing after them."""
        if (body.get("text") or "").strip():
            return
        kind = str(body.get("command") or "").lstrip("/")
        team, user = team_of(body), user_of(body)
        locale = self.user_locale(client, team, user)
        view = self.record_modal(kind, locale=locale, team=team, metadata={
            M_CHANNEL: body.get("channel_id"), M_ORIGIN: ORIGIN_COMMAND, M_URL: body.get("response_url"),
        })
        self._open(client, body, view, respond, locale)

    def open_home_modal(self, body: JSON, client: WebClient) -> None:
        action = (body.get("actions") or [{}])[0]
        kind = "goal" if action.get("action_id") == ActionId.HOME_ADD_GOAL else "task"
        team, user = team_of(body), user_of(body)
        locale = self.user_locale(client, team, user)
        view = self.record_modal(kind, locale=locale, team=team, metadata={M_ORIGIN: ORIGIN_HOME}, owner=user)
        self._open(client, body, view, None, locale)

    def open_shortcut(self, body: JSON, client: WebClient, respond: Respond) -> None:
        """Message shortcuts: a prefilled task or customer-feedback modal that remembers where the message is."""
        team, user = team_of(body), user_of(body)
        locale = self.user_locale(client, team, user)
        channel = str((body.get("channel") or {}).get("id") or "")
        message = body.get("message") or {}
        ts = str(message.get("ts") or body.get("message_ts") or "")
        permalink = None
        if channel and ts:
            try:
                permalink = client.chat_getPermalink(channel=channel, message_ts=ts).get("permalink")
            except SlackApiError as exc:
                log.warning("chat.getPermalink failed: %s", exc.response.get("error"))
        text = slack_text(str(message.get("text") or ""))
        metadata = {M_CHANNEL: channel, M_ORIGIN: ORIGIN_SHORTCUT, M_PERMALINK: permalink, M_URL: body.get("response_url")}
        if body.get("callback_id") == CallbackId.TASK_FROM_MESSAGE:
            view = self.record_modal("task", locale=locale, team=team, metadata=metadata,
                                     task_prefill=modals.TaskPrefill(title=first_line(text), source_text=text))
        else:
            view = self.record_modal("feedback", locale=locale, team=team, metadata=metadata,
                                     feedback_prefill=modals.FeedbackPrefill(text=truncate(text, modals.INPUT_MAX), source="customer"))
        self._open(client, body, view, respond if body.get("response_url") else None, locale)

    # ---- buttons on task cards -------------------------------------------------------------------

    def on_task_action(self, body: JSON, client: WebClient, respond: Respond) -> None:
        team, user = team_of(body), user_of(body)
        action = (body.get("actions") or [{}])[0]
        kind, value = self._task_kind(action)
        locale = self.user_locale(client, team, user)
        container = body.get("container") or {}
        from_home = container.get("type") == "view"
        try:
            ref, from_due = views.parse_snooze_value(value) if kind == "snooze" else (value, None)
            number = parse_ref(ref, "task")
        except (ParseError, ValueError):
            log.warning("a task button carried %r", value)
            return
        if kind == "block":
            self.open_block_modal(body, client, respond, team=team, user=user, number=number, locale=locale)
            return
        today = self.today()
        shared = not from_home and not container.get("is_ephemeral") and isinstance(body.get("message"), dict)
        shared_locale = self.shared_locale(team) if shared else locale
        what = "snooze" if kind == "snooze" else None

        def click(session: Session) -> tuple[Any, ...]:
            task = _locked_task(session, team, number)
            if task.status == "done":
                change = task_service.Change(task, False, "done")
            elif kind == "start":
                change = task_service.set_status(session, workspace_id=team, number=number, status="in_progress")
            elif kind == "done":
                change = task_service.set_status(session, workspace_id=team, number=number, status="done")
            elif task.due_on != from_due:  # snoozed already (or moved by someone else) since this card was drawn
                change = task_service.Change(task, False, task.status)
            else:
                start_from = max(task.due_on or today, today)
                change = task_service.set_due(session, workspace_id=team, number=number, due_on=start_from + timedelta(days=1))
            private = views.task_changed(change, actor=user, today=today, locale=locale, what=what)
            note, _plain = views.task_change_message(change, actor=user, today=today, locale=shared_locale, what=what)
            updated_blocks = (
                views.update_task_blocks(body["message"].get("blocks") or [], task, note=note, today=today, locale=shared_locale)
                if shared else None
            )
            home_notice = views.task_change_message(change, actor=user, today=today, locale=locale, what=what)[0]
            return change, task.owner_id, private, updated_blocks, home_notice

        try:
            change, owner, private, updated_blocks, home_notice = self.runtime.db.retrying(click)
        except NotFound:
            self._tell(respond, from_home, client, team, user, t("error.no_task", locale, ref=f"T-{number}"))
            return
        if from_home:
            self.publish_home(client, team, user, locale=locale, notice=home_notice)
        elif shared and updated_blocks is not None:
            if change.changed:
                respond(text=str(body["message"].get("text") or private.text), blocks=updated_blocks, replace_original=True)
            else:
                # Nothing changed: the clicked copy may be stale, so leave the shared message as it is.
                respond(text=private.text, blocks=private.blocks[:1], response_type="ephemeral", replace_original=False)
        else:
            respond(text=private.text, blocks=private.blocks, replace_original=True)
        if change.changed:
            self.refresh_homes(client, team, [owner], skip=user if from_home else None)

    @staticmethod
    def _task_kind(action: JSON) -> tuple[str, str]:
        action_id = str(action.get("action_id") or "")
        if action_id == ActionId.TASK_MENU:
            picked = str((action.get("selected_option") or {}).get("value") or action.get("value") or "")
            action_id, _, value = picked.partition("|")
        else:
            value = str(action.get("value") or "")
        kind = next((k for a, k in TASK_ACTIONS.items() if a.value == action_id), "")
        return kind, value

    def _tell(self, respond: Respond | None, from_home: bool, client: WebClient, team: str, user: str, text: str) -> None:
        """A private answer: in the conversation the click came from, or at the top of the Home tab."""
        if from_home or respond is None:
            self.publish_home(client, team, user, notice=f":information_source: {text}")
        else:
            respond(text=f":information_source: {text}", response_type="ephemeral", replace_original=False)

    def _origin(self, body: JSON) -> JSON:
        container = body.get("container") or {}
        if container.get("type") == "view":
            return {M_ORIGIN: ORIGIN_HOME}
        return {
            M_ORIGIN: ORIGIN_MESSAGE,
            M_CHANNEL: container.get("channel_id") or (body.get("channel") or {}).get("id"),
            M_TS: container.get("message_ts"),
            M_EPHEMERAL: 1 if container.get("is_ephemeral") or not isinstance(body.get("message"), dict) else 0,
            M_URL: body.get("response_url"),
        }

    def open_block_modal(self, body: JSON, client: WebClient, respond: Respond, *, team: str, user: str, number: int,
                         locale: str) -> None:
        today = self.today()
        from_home = (body.get("container") or {}).get("type") == "view"
        with self.runtime.db.session(write=False) as session:
            try:
                task = task_service.get_task(session, workspace_id=team, number=number)
            except NotFound:
                self._tell(respond, from_home, client, team, user, t("error.no_task", locale, ref=f"T-{number}"))
                return
            if task.status == "done":
                self._tell(respond, from_home, client, team, user,
                           t("task.nothing_changed", locale, n=number, what=t("task.already.done", locale)))
                return
            summary = views.task_line(task, today, locale=locale)
        view = modals.block_reason_modal(locale=locale, ref=f"T-{number}", summary=summary,
                                         metadata={**self._origin(body), M_REF: f"T-{number}", M_LOCALE: locale})
        self._open(client, body, view, None if from_home else respond, locale)

    # ---- goals and retros ------------------------------------------------------------------------

    def open_checkin_modal(self, body: JSON, client: WebClient, respond: Respond) -> None:
        team, user = team_of(body), user_of(body)
        locale = self.user_locale(client, team, user)
        action = (body.get("actions") or [{}])[0]
        from_home = (body.get("container") or {}).get("type") == "view"
        try:
            number = parse_ref(str(action.get("value") or ""), "goal")
        except ParseError:
            return
        today = self.today()
        with self.runtime.db.session(write=False) as session:
            try:
                goal = goal_service.get_goal(session, workspace_id=team, number=number)
            except NotFound:
                self._tell(respond, from_home, client, team, user, t("error.no_goal", locale, ref=f"G-{number}"))
                return
            if goal.status == "closed":
                self._tell(respond, from_home, client, team, user, t("error.goal_closed", locale, ref=f"G-{number}"))
                return
            summary = views.goal_progress_line(goal, goal_service.progress(session, goal=goal, today=today), today, locale=locale)
        view = modals.checkin_modal(locale=locale, ref=f"G-{number}", summary=summary,
                                    metadata={**self._origin(body), M_REF: f"G-{number}", M_LOCALE: locale})
        self._open(client, body, view, None if from_home else respond, locale)

    def open_retro_note_modal(self, body: JSON, client: WebClient, respond: Respond) -> None:
        team, user = team_of(body), user_of(body)
        locale = self.user_locale(client, team, user)
        action = (body.get("actions") or [{}])[0]
        try:
            number = parse_ref(str(action.get("value") or ""), "retro")
        except ParseError:
            return
        with self.runtime.db.session(write=False) as session:
            try:
                retro = retro_service.get_retro(session, workspace_id=team, number=number)
            except NotFound:
                self._tell(respond, False, client, team, user, t("error.no_retro", locale, ref=f"R-{number}"))
                return
            if retro.status != "open":
                self._tell(respond, False, client, team, user, t("retro.closed_no_notes", locale, ref=f"R-{number}"))
                return
            summary = f"*R-{retro.number}* {esc(retro.title)}"
        view = modals.retro_note_modal(locale=locale, ref=f"R-{number}", summary=summary,
                                       metadata={**self._origin(body), M_REF: f"R-{number}", M_LOCALE: locale})
        self._open(client, body, view, respond, locale)

    def on_retro_close(self, body: JSON, client: WebClient, respond: Respond) -> None:
        team, user = team_of(body), user_of(body)
        locale = self.user_locale(client, team, user)
        action = (body.get("actions") or [{}])[0]
        try:
            number = parse_ref(str(action.get("value") or ""), "retro")
        except ParseError:
            return
        today = self.today()
        rt = self.runtime

        def parse_due(value: str) -> date | None:
            try:
                return parse_date(value, today=today)
            except ParseError:
                return None

        def close(session: Session) -> Any:
            closed = retro_service.close_retro(session, workspace_id=team, number=number, user_id=user, parse_due=parse_due)
            if closed.changed:
                from bot.posts.retro import enqueue_summary

                enqueue_summary(session, closed, today=today, now=rt.clock())
            return closed

        try:
            closed = rt.db.retrying(close)
            notes, created = len(closed.notes), len(closed.tasks)
            owners = [task.owner_id for task in closed.tasks]
        except NotFound:
            self._tell(respond, False, client, team, user, t("error.no_retro", locale, ref=f"R-{number}"))
            return
        shared_locale = self.shared_locale(team)
        if closed.changed:
            note = ":checkered_flag: " + t("retro.closed_by", shared_locale, ref=f"R-{number}", actor=mention(user),
                                           notes=notes, tasks=created)
        else:
            note = ":checkered_flag: " + t("retro.closed", shared_locale, ref=f"R-{number}")
        message = body.get("message")
        if isinstance(message, dict):
            blocks = views.close_record_blocks(message.get("blocks") or [], record_block(BlockId.RETRO_ACTIONS, f"R-{number}"), note)
            respond(text=str(message.get("text") or note), blocks=blocks, replace_original=True)
        if not closed.changed:
            respond(text=":information_source: " + t("retro.already_closed", locale, ref=f"R-{number}"),
                    response_type="ephemeral", replace_original=False)
            return
        if rt.jobs is not None:
            from jobs.delivery import deliver_due

            deliver_due(rt.jobs, limit=50)
        self.refresh_homes(client, team, owners)

    # ---- modal submissions (ack path) ------------------------------------------------------------

    def sealed_for_team(self, body: JSON, view: JSON) -> bool:
        """Whether the submitted view's private_metadata is the one the bot showed in this workspace."""
        return modals.unseal_metadata(view.get("private_metadata"), team=team_of(body), key=self.runtime.seal_key) is not None

    def _submission(self, body: JSON, view: JSON) -> tuple[str, str, JSON, str, JSON]:
        meta = modals.decode_metadata(
            modals.unseal_metadata(view.get("private_metadata"), team=team_of(body), key=self.runtime.seal_key))
        locale = str(meta.get(M_LOCALE) or DEFAULT_LOCALE)
        values = ((view.get("state") or {}).get("values")) or {}
        return team_of(body), user_of(body), meta, locale, values

    @staticmethod
    def _errors(ack: Ack, errors: dict[str, str]) -> None:
        ack(response_action="errors", errors=errors)

    def _confirmation(self, meta: JSON, user: str, reply: Reply, home_notice: str) -> JSON:
        """What the lazy half does to tell the submitter: privately in the channel, or on their Home tab."""
        if meta.get(M_ORIGIN) == ORIGIN_HOME or not meta.get(M_CHANNEL):
            return {"home_notice": {"user": user, "text": home_notice}}
        return {"confirm": {"channel": meta.get(M_CHANNEL), "url": meta.get(M_URL), "text": reply.text, "blocks": reply.blocks}}

    def _record(
        self,
        ack: Ack,
        context: BoltContext,
        meta: JSON,
        user: str,
        *,
        error_block: str,
        write: Callable[[Session], tuple[Reply, str, list[str | None]]],
    ) -> None:
        """What every form shares: read and write in one unit of work; a bad value comes back as a field
        error and nothing is written; a good one is acked, then confirmed to the submitter by the lazy half."""
        try:
            reply, notice, homes = self.runtime.db.retrying(write)
        except FieldErrors as exc:
            return self._errors(ack, exc.errors)
        except UserError as exc:
            return self._errors(ack, {error_block: exc.text(str(meta.get(M_LOCALE) or DEFAULT_LOCALE))})
        ack()
        after = self._confirmation(meta, user, reply, notice)
        context["after"] = {**after, "homes": homes} if homes else after

    def submit_task(self, ack: Ack, body: JSON, view: JSON, context: BoltContext) -> None:
        team, user, meta, locale, values = self._submission(body, view)
        today = self.today()

        def write(session: Session) -> tuple[Reply, str, list[str | None]]:
            data = parse_task_form(values, locale=locale, channel_id=meta.get(M_CHANNEL), permalink=meta.get(M_PERMALINK))
            _check_refs(session, team, locale, {BlockId.CAMPAIGN: (Campaign, "campaign", data.campaign),
                                                 BlockId.GOAL: (Goal, "goal", data.goal)})
            task = task_service.add_task(session, workspace_id=team, data=data, user_id=user)
            notice = t("task.added", locale, n=task.number, title=esc(task.title))
            return views.task_created(task, today=today, locale=locale), notice, [task.owner_id]

        self._record(ack, context, meta, user, error_block=BlockId.DUE, write=write)

    def submit_goal(self, ack: Ack, body: JSON, view: JSON, context: BoltContext) -> None:
        team, user, meta, locale, values = self._submission(body, view)
        today = self.today()

        def write(session: Session) -> tuple[Reply, str, list[str | None]]:
            data = parse_goal_form(values, locale=locale, today=today, channel_id=meta.get(M_CHANNEL))
            _check_refs(session, team, locale, {BlockId.PARENT: (Goal, "goal", data.parent)})
            goal = goal_service.create_goal(session, workspace_id=team, data=data, user_id=user)
            reply = views.goal_created(goal, today=today, actor=user, locale=locale)
            reply.in_channel = False
            notice = t("goal.set", locale, actor=mention(user, locale), n=goal.number, title=esc(goal.title))
            return reply, notice, [goal.owner_id]

        self._record(ack, context, meta, user, error_block=BlockId.DUE, write=write)

    def submit_campaign(self, ack: Ack, body: JSON, view: JSON, context: BoltContext) -> None:
        team, user, meta, locale, values = self._submission(body, view)
        today = self.today()

        def write(session: Session) -> tuple[Reply, str, list[str | None]]:
            data = parse_campaign_form(values, locale=locale, channel_id=meta.get(M_CHANNEL))
            _check_refs(session, team, locale, {BlockId.GOAL: (Goal, "goal", data.goal)})
            campaign = campaign_service.create_campaign(session, workspace_id=team, data=data, user_id=user)
            summary = campaign_service.summary(session, campaign=campaign)
            notice = t("campaign.added", locale, actor=mention(user, locale), n=campaign.number, name=esc(campaign.name))
            return views.campaign_created(summary, today=today, actor=user, locale=locale), notice, []

        self._record(ack, context, meta, user, error_block=BlockId.END, write=write)

    def submit_feedback(self, ack: Ack, body: JSON, view: JSON, context: BoltContext) -> None:
        team, user, meta, locale, values = self._submission(body, view)

        def write(session: Session) -> tuple[Reply, str, list[str | None]]:
            data = parse_feedback_form(values, locale=locale, permalink=meta.get(M_PERMALINK))
            _check_refs(session, team, locale, {BlockId.CAMPAIGN: (Campaign, "campaign", data.campaign),
                                                 BlockId.GOAL: (Goal, "goal", data.goal)})
            row = feedback_service.create_feedback(session, workspace_id=team, data=data, user_id=user)
            return views.feedback_created(row, locale=locale), t("feedback.recorded", locale, n=row.number), []

        self._record(ack, context, meta, user, error_block=BlockId.TEXT, write=write)

    def submit_block(self, ack: Ack, body: JSON, view: JSON, context: BoltContext) -> None:
        team, user, meta, locale, values = self._submission(body, view)
        runtime: Runtime = context["runtime"]
        today = runtime.clock().astimezone(runtime.zone).date()
        reason = " ".join(text_value(values, BlockId.REASON).split())
        if not reason:
            return self._errors(ack, {BlockId.REASON: t("error.block_reason", locale)})
        try:
            number = parse_ref(str(meta.get(M_REF) or ""), "task")

            def block(session: Session) -> tuple[Any, ...]:
                task = _locked_task(session, team, number)
                if task.status == "done":
                    change = task_service.Change(task, False, "done")
                else:
                    change = task_service.set_status(session, workspace_id=team, number=number, status="blocked", reason=reason)
                card = views.task_changed(change, actor=user, today=today, locale=locale)
                note = views.task_change_message(change, actor=user, today=today, locale=locale)[0]
                return change, card, note, task.owner_id

            change, card, note, owner = runtime.db.retrying(block)
        except (ParseError, NotFound):
            return self._errors(ack, {BlockId.REASON: t("error.no_task", locale, ref=str(meta.get(M_REF)))})
        except UserError as exc:
            return self._errors(ack, {BlockId.REASON: exc.text(locale)})
        ack()
        after: JSON = {"homes": [owner] if change.changed else []}
        if meta.get(M_ORIGIN) == ORIGIN_HOME:
            after["home_notice"] = {"user": user, "text": note}
        elif meta.get(M_EPHEMERAL):
            after["replace"] = {"url": meta.get(M_URL), "text": card.text, "blocks": card.blocks}
        else:
            after["update_task"] = {"channel": meta.get(M_CHANNEL), "ts": meta.get(M_TS), "number": number, "actor": user,
                                    "changed": change.changed}
            if not change.changed:
                after["confirm"] = {"channel": meta.get(M_CHANNEL), "url": meta.get(M_URL), "text": card.text, "blocks": card.blocks[:1]}
        context["after"] = after

    def submit_checkin(self, ack: Ack, body: JSON, view: JSON, context: BoltContext) -> None:
        team, user, meta, locale, values = self._submission(body, view)
        runtime: Runtime = context["runtime"]
        today = runtime.clock().astimezone(runtime.zone).date()
        try:
            form = parse_checkin_form(values, locale=locale)
            number = parse_ref(str(meta.get(M_REF) or ""), "goal")

            def checkin(session: Session) -> tuple[Any, ...]:
                goal, _row = goal_service.checkin(
                    session, workspace_id=team, number=number, value=form.value.value, percent=form.value.percent,
                    confidence=form.confidence, note=form.note, user_id=user,
                )
                progress = goal_service.progress(session, goal=goal, today=today)
                reply = views.goal_checked_in(goal, progress, today=today, actor=user, locale=locale)
                notice = ":white_check_mark: " + t("goal.checked_in", locale, n=goal.number, actor=mention(user, locale))
                return reply, goal.owner_id, notice

            reply, owner, notice = runtime.db.retrying(checkin)
        except FieldErrors as exc:
            return self._errors(ack, exc.errors)
        except (ParseError, NotFound):
            return self._errors(ack, {BlockId.VALUE: t("error.no_goal", locale, ref=str(meta.get(M_REF)))})
        except UserError as exc:
            return self._errors(ack, {BlockId.VALUE: exc.text(locale)})
        ack()
        context["after"] = {**self._confirmation(meta, user, reply, notice), "homes": [owner]}

    def submit_retro_note(self, ack: Ack, body: JSON, view: JSON, context: BoltContext) -> None:
        team, user, meta, locale, values = self._submission(body, view)
        runtime: Runtime = context["runtime"]
        try:
            line = parse_retro_note_form(values, locale=locale)
            number = parse_ref(str(meta.get(M_REF) or ""), "retro")

            def note(session: Session) -> tuple[Any, ...]:
                retro = retro_service.get_retro(session, workspace_id=team, number=number)
                if retro.status != "open":
                    raise FieldErrors({BlockId.TEXT: t("retro.closed_no_notes", locale, ref=f"R-{number}")})
                # The view id makes a re-sent submission harmless, as a thread reply's ts does.
                key = f"modal.{view.get('id') or ''}"[:32]
                retro_service.record_reply(session, retro=retro, user_id=user, message_ts=key, text=line)
                return retro.slack_channel_id, retro.thread_ts

            channel, thread = runtime.db.retrying(note)
        except FieldErrors as exc:
            return self._errors(ack, exc.errors)
        except (ParseError, NotFound):
            return self._errors(ack, {BlockId.TEXT: t("error.no_retro", locale, ref=str(meta.get(M_REF)))})
        ack()
        shown = f":memo: {mention(user)}: {esc_keep_mentions(line)}"  # an action's owner stays a mention
        if thread:
            # keyed by the view, as the note is: a re-sent submission or a lost answer never echoes it twice
            context["after"] = {"thread": {"channel": channel, "thread_ts": thread, "text": truncate(shown, 3000),
                                           "key": f"retro-note:{view.get('id') or ''}"}}
        else:
            text = t("retro.note_added", locale, ref=f"R-{number}")
            context["after"] = {"confirm": {"channel": meta.get(M_CHANNEL) or channel, "url": meta.get(M_URL), "text": text,
                                            "blocks": views.notice(text).blocks}}

    # ---- after a submission (lazy) ---------------------------------------------------------------

    def after_submission(self, body: JSON, client: WebClient, context: BoltContext) -> None:
        after = context.get("after")
        if not isinstance(after, dict):
            return
        team, user = team_of(body), user_of(body)
        confirm = after.get("confirm")
        if isinstance(confirm, dict):
            self.confirm(client, user, confirm)
        replace = after.get("replace")
        if isinstance(replace, dict) and replace.get("url"):
            try:
                WebhookClient(replace["url"]).send(text=replace["text"], blocks=replace["blocks"], replace_original=True)
            except Exception:
                log.warning("could not update the original message", exc_info=True)
        update = after.get("update_task")
        if isinstance(update, dict):
            self.update_task_message(client, team, update)
        thread = after.get("thread")
        if isinstance(thread, dict):
            self.echo_in_thread(team, thread)
        notice = after.get("home_notice")
        home_users: list[str | None] = list(after.get("homes") or [])
        if isinstance(notice, dict):
            self.publish_home(client, team, notice["user"], notice=notice["text"])
            self.refresh_homes(client, team, home_users, skip=notice["user"])
        else:
            self.refresh_homes(client, team, home_users)

    def echo_in_thread(self, team: str, thread: JSON) -> None:
        """The note in the retro's thread, through the outbox: posted once even when Slack's answer is lost
        (delivery looks for it by its outbox id before posting again, now or on a later run)."""
        from bot.services import outbox
        from jobs.delivery import deliver_due

        try:
            with self.runtime.db.session() as session:
                outbox_id = outbox.enqueue(session, workspace_id=team, now=self.runtime.jobs.clock(), post=outbox.Post(
                    dedupe_key=str(thread["key"]), kind="retro_note", text=str(thread["text"]),
                    slack_channel_id=str(thread["channel"]), thread_ts=str(thread["thread_ts"])))
            if outbox_id is not None:
                deliver_due(self.runtime.jobs, only=[outbox_id])
        except Exception:
            log.exception("could not post the note in the retro thread")

    def confirm(self, client: WebClient, user: str, confirm: JSON) -> None:
        """Privately in the channel the flow started in; through the response_url, or by DM, when the bot is not there."""
        text, blocks = confirm.get("text") or "", confirm.get("blocks") or None
        channel = confirm.get("channel")
        if channel:
            try:
                client.chat_postEphemeral(channel=channel, user=user, text=text, blocks=blocks)
                return
            except SlackApiError as exc:
                log.info("chat.postEphemeral in %s failed (%s); trying the next way", channel, exc.response.get("error"))
        url = confirm.get("url")
        if url:
            try:
                response = WebhookClient(url).send(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)
                if response.status_code == 200:
                    return
            except Exception:
                log.info("response_url failed", exc_info=True)
        try:
            client.chat_postMessage(channel=user, text=text, blocks=blocks)
        except SlackApiError as exc:
            log.warning("could not confirm to %s: %s", user, exc.response.get("error"))

    def update_task_message(self, client: WebClient, team: str, update: JSON) -> None:
        """A task card in a shared message (a digest, a reminder) after a modal changed the task: chat.update in place."""
        channel, ts = update.get("channel"), update.get("ts")
        if not channel or not ts:
            return
        try:
            history = client.conversations_history(channel=channel, latest=ts, oldest=ts, inclusive=True, limit=1)
        except SlackApiError as exc:
            log.info("could not read the message to update: %s", exc.response.get("error"))
            return
        found = [m for m in history.get("messages") or [] if m.get("ts") == ts]
        if not found:
            return
        message = found[0]
        locale = self.shared_locale(team)
        today = self.today()
        with self.runtime.db.session(write=False) as session:
            try:
                task = task_service.get_task(session, workspace_id=team, number=int(update["number"]))
            except NotFound:
                return
            change = task_service.Change(task, bool(update.get("changed")), "")
            note = views.task_change_message(change, actor=str(update.get("actor") or ""), today=today, locale=locale)[0]
            blocks = views.update_task_blocks(message.get("blocks") or [], task, note=note, today=today, locale=locale)
        try:
            client.chat_update(channel=channel, ts=ts, text=message.get("text") or note, blocks=blocks)
        except SlackApiError as exc:
            log.warning("chat.update failed: %s", exc.response.get("error"))


def _ack(ack: Ack) -> None:
    ack()


def register(app: App, *, locales: Locales) -> Interactive:
    """Wire every action, view submission, shortcut and the app_home_opened event."""
    handlers = Interactive(app, locales)
    for action_id in (ActionId.TASK_START, ActionId.TASK_DONE, ActionId.TASK_BLOCK, ActionId.TASK_SNOOZE, ActionId.TASK_MENU):
        app.action(action_id)(ack=_ack, lazy=[handlers.on_task_action])
    app.action(ActionId.GOAL_CHECKIN)(ack=_ack, lazy=[handlers.open_checkin_modal])
    app.action(ActionId.RETRO_NOTE)(ack=_ack, lazy=[handlers.open_retro_note_modal])
    app.action(ActionId.RETRO_CLOSE)(ack=_ack, lazy=[handlers.on_retro_close])
    app.action(ActionId.HOME_ADD_TASK)(ack=_ack, lazy=[handlers.open_home_modal])
    app.action(ActionId.HOME_ADD_GOAL)(ack=_ack, lazy=[handlers.open_home_modal])

    submissions: dict[CallbackId, Callable[..., None]] = {
        CallbackId.TASK_MODAL: handlers.submit_task,
        CallbackId.GOAL_MODAL: handlers.submit_goal,
        CallbackId.CAMPAIGN_MODAL: handlers.submit_campaign,
        CallbackId.FEEDBACK_MODAL: handlers.submit_feedback,
        CallbackId.TASK_BLOCK_MODAL: handlers.submit_block,
        CallbackId.GOAL_CHECKIN_MODAL: handlers.submit_checkin,
        CallbackId.RETRO_NOTE_MODAL: handlers.submit_retro_note,
    }
    def sealed(submit: Callable[..., None]) -> Callable[..., None]:
        def checked(ack: Ack, body: JSON, view: JSON, context: BoltContext) -> None:
            if not handlers.sealed_for_team(body, view):
                log.warning("view %s: private_metadata not sealed for team %s; ignored", view.get("id"), team_of(body))
                ack()  # closes the form; nothing is written or updated
                return
            submit(ack, body, view, context)
        return checked

    for callback_id, submit in submissions.items():
        app.view(callback_id)(ack=sealed(submit), lazy=[handlers.after_submission])

    app.shortcut(CallbackId.TASK_FROM_MESSAGE)(ack=_ack, lazy=[handlers.open_shortcut])
    app.shortcut(CallbackId.FEEDBACK_FROM_MESSAGE)(ack=_ack, lazy=[handlers.open_shortcut])
    app.event("app_home_opened")(ack=_ack, lazy=[handlers.on_home_opened])
    return handlers
