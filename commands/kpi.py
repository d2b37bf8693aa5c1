"""/kpi: define metrics (incl. ratios of two others), log daily values per channel, show a period; import a
KPI file sent in Slack (the `/kpi import` form, or a file shared in a DM with the bot: a preview with Import
and Cancel) and export the values as a file by DM."""

from __future__ import annotations

import calendar
import dataclasses
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.exports import FORMATS
from bot.i18n import t
from bot.ids import ActionId, BlockId, CallbackId
from bot.imports.presets import PRESET_CHOICES
from bot.render import modals, views
from bot.render.reply import Builder, Reply
from bot.runtime import Runtime
from bot.services import channels, pending_imports
from bot.services import goals as goal_service
from bot.services import kpis as service
from bot.slack_text import esc
from commands import kpi_channels
from commands.base import (
    FIELD,
    M_CHANNEL,
    M_LOCALE,
    CommandContext,
    CommandDoc,
    SlashCommand,
    Submission,
    field_errors,
    first_action,
    on_action,
    on_submission,
    option_value,
    split_verb,
    team_of,
    user_locale,
    user_of,
)
from commands.followups import (
    Answer,
    FollowUp,
    OpenModal,
    PostChart,
    PreviewImport,
    ReplaceOriginal,
    Respond,
    RunImport,
    SendExport,
)
from commands.grammar import Number, ParseError, parse_args, parse_choice, parse_date, parse_number, parse_ref

DOC = CommandDoc(
    "/kpi",
    forms=(
        "/kpi log <metric> <value> [<metric> <value> …] [channel:<name>] [date:<date>]",
        "/kpi define <metric> [unit:<u>] [agg:sum|avg|last] [better:up|down] [= <a> / <b>]",
        "/kpi show <metric> [why] [period:30d|12w|this-month|this-quarter|<from>..<to>] [by:channel] [channel:<name>]",
        "/kpi list",
        "/kpi channel alias <name> <channel>    /kpi channel unalias <name>    /kpi channel aliases",
        "/kpi import    /kpi export [<metric> …] [period:…] [by:channel] [channel:<name>] [format:csv|xlsx]",
    ),
    notes=(
        "usage.kpi.examples",
        "usage.kpi.import",
    ),
    summary="help.kpi",
    example="/kpi log visits 12500 orders 310 channel:天猫",
)


@dataclass(frozen=True)
class LogEntry:
    metric: str
    value: str


def parse_log(text: str, ctx: CommandContext) -> tuple[list[tuple[str, Number]], str, date]:
    parsed = parse_args(text, options={"channel": "channel", "date": "date", "day": "date", "on": "date"}, usage=DOC.usage)
    words = parsed.words
    if not words:
        raise ParseError.of("error.kpi.log_args", usage=DOC.usage)
    if len(words) % 2:
        raise ParseError.of("error.kpi.no_value", usage=DOC.usage, name=words[-1].text)
    entries: list[tuple[str, Number]] = []
    seen: set[str] = set()
    for name_token, value_token in zip(words[::2], words[1::2], strict=True):
        name = name_token.text.strip()
        if not name or _looks_numeric(name):
            raise ParseError.of("error.kpi.not_a_name", usage=DOC.usage, name=name_token.text)
        number = parse_number(value_token.text)
        key = service.metric_key(name)
        if key in seen:
            raise ParseError.of("error.kpi.twice", usage=DOC.usage, name=name)
        seen.add(key)
        entries.append((name, number))
    day = parse_date(parsed.options["date"], today=ctx.today) if "date" in parsed.options else ctx.today
    if day > ctx.today:
        raise ParseError.of("error.kpi.future", usage=DOC.usage, day=day)
    return entries, parsed.options.get("channel", ""), day


def _looks_numeric(text: str) -> bool:
    try:
        parse_number(text)
        return True
    except ParseError:
        return False


FORMULA = re.compile(r"^\s*=\s*(?P<a>.+?)\s*/\s*(?P<b>.+?)\s*$")


def parse_define(text: str) -> service.MetricSpec:
    # `=` also separates option keys from values (agg=avg), so only a standalone `= a / b` is a formula.
    split = re.search(r"(?:^|\s)=", text)
    head, eq, formula = (text[: split.start()], "=", text[split.end() :]) if split else (text, "", "")
    parsed = parse_args(head, options={"unit", "agg", "better"}, usage=DOC.usage)
    if not parsed.words:
        raise ParseError.of("error.kpi.define_name", usage=DOC.usage)
    name = parsed.text()
    numerator = denominator = None
    opts = dict(parsed.options)
    if eq:
        # options may follow the formula too: `/kpi define aov = gmv / orders unit:¥`
        tail = parse_args(formula, options={"unit", "agg", "better"}, usage=DOC.usage)
        if tail.options:
            opts.update(tail.options)
            formula = tail.text()
        match = FORMULA.match("=" + formula)
        if not match:
            raise ParseError.of("error.kpi.formula", usage=DOC.usage, formula=formula)
        numerator = _strip_quotes(match["a"])
        denominator = _strip_quotes(match["b"])
        # one metric over another: (revenue - cost) / cost or a / b / c is not a ratio of two metrics
        if any(re.search(r"[/()*+]| - ", part) for part in (numerator, denominator)):
            raise ParseError.of("error.kpi.formula", usage=DOC.usage, formula=formula)
    return service.MetricSpec(
        name=name,
        unit=opts.get("unit"),
        agg=parse_choice(opts["agg"], list(service.AGGS), name="agg") if "agg" in opts else None,
        better=parse_choice(opts["better"], list(service.BETTER), name="better") if "better" in opts else None,
        numerator=numerator,
        denominator=denominator,
    )


def _strip_quotes(text: str) -> str:
    text = text.strip()
    for open_, close in (('"', '"'), ("“", "”"), ("「", "」")):
        if text.startswith(open_) and text.endswith(close) and len(text) >= 2:
            return text[1:-1].strip()
    return text


def parse_period(value: str, *, today: date) -> tuple[date, date]:
    v = value.strip().lower()
    match = re.fullmatch(r"(\d{1,4})([dwm])", v)
    if match:
        n, unit = int(match[1]), match[2]
        if n < 1:
            raise ParseError.of("error.kpi.period_min", usage=DOC.usage)
        days = n * {"d": 1, "w": 7, "m": 30}[unit]
        return today - timedelta(days=days - 1), today
    if v in ("this-week", "week"):
        return today - timedelta(days=today.weekday()), today
    if v in ("this-month", "month", "mtd", "本月"):
        return today.replace(day=1), today
    if v in ("last-month", "上月"):
        end = today.replace(day=1) - timedelta(days=1)
        return end.replace(day=1), end
    if v in ("this-quarter", "quarter", "qtd", "本季度"):
        first_month = 3 * ((today.month - 1) // 3) + 1
        return date(today.year, first_month, 1), today
    if v in ("last-quarter",):
        first_month = 3 * ((today.month - 1) // 3) + 1
        end = date(today.year, first_month, 1) - timedelta(days=1)
        return date(end.year, 3 * ((end.month - 1) // 3) + 1, 1), end
    if v in ("this-year", "ytd", "year"):
        return date(today.year, 1, 1), today
    if ".." in v:
        a, _, b = value.partition("..")
        start, end = parse_date(a.strip(), today=today), parse_date(b.strip(), today=today)
        if end < start:
            raise ParseError.of("error.kpi.period_reversed", usage=DOC.usage, end=end, start=start)
        return start, end
    raise ParseError.of("error.kpi.period_invalid", usage=DOC.usage, value=value)


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


@dataclass(frozen=True)
class ShowRequest:
    metric: str
    start: date
    end: date
    by_channel: bool
    channel: str | None
    why: bool = False


def parse_show(text: str, ctx: CommandContext) -> ShowRequest:
    parsed = parse_args(text, options={"period", "by", "channel"}, usage=DOC.usage)
    if not parsed.words:
        raise ParseError.of("error.kpi.show_name", usage=DOC.usage)
    start, end = parse_period(parsed.options.get("period", "30d"), today=ctx.today)
    by = parsed.options.get("by")
    if by is not None and by.lower() not in ("channel", "channels", "渠道"):
        raise ParseError.of("error.kpi.by", usage=DOC.usage, by=by)
    words = [w.text for w in parsed.words if w.text]
    last = parsed.words[-1]
    why = len(words) > 1 and not last.quoted and last.text.lower() in ("why", "为什么", "原因")
    name = " ".join(words[:-1]) if why else parsed.text()
    return ShowRequest(name, start, end, by is not None, parsed.options.get("channel"), why)


def _metric_ref(text: str) -> str | int:
    """`K-4`, `k4` or `4` name a metric by its reference; anything else is a metric name."""
    if re.fullmatch(r"(?:[Kk]-?|#)?\d+", text.strip()):
        return parse_ref(text.strip(), "kpi")
    return text


def metric_name(ctx: CommandContext, text: str) -> str:
    """A metric as typed: its reference (K-4, k4) is looked up and must exist; a name is taken as it is (and a
    new one becomes a new metric), never a reference turned into a metric called "K-4"."""
    ref = _metric_ref(text)
    if isinstance(ref, str):
        return ref
    with ctx.db.session(write=False) as session:
        return service.get_metric(session, workspace_id=ctx.workspace_id, name_or_number=ref).name


def handle(text: str, ctx: CommandContext) -> Reply | Answer:
    verb, rest = split_verb(text)
    loc = ctx.locale
    if verb in ("channel", "channels"):
        return kpi_channels.handle(rest, ctx)
    if verb in ("", "list", "ls"):
        if rest:
            raise ParseError.of("error.command.takes_nothing", usage=DOC.usage, command="/kpi list", rest=rest)
        with ctx.db.session(write=False) as session:
            metrics = service.list_metrics(session, workspace_id=ctx.workspace_id)
            return views.kpi_list([(service.MetricCard.of(m), service.latest_day(session, metric=m)) for m in metrics], today=ctx.today, locale=loc)
    if verb == "log":
        entries, channel, day = parse_log(rest, ctx)
        if any(isinstance(_metric_ref(name), int) for name, _ in entries):
            entries = [(metric_name(ctx, name), n) for name, n in entries]
            if len({service.metric_key(name) for name, _ in entries}) < len(entries):
                twice = next(name for name, _ in entries if sum(service.metric_key(o) == service.metric_key(name)
                                                                for o, _ in entries) > 1)
                raise ParseError.of("error.kpi.twice", usage=DOC.usage, name=twice)
        with ctx.db.transaction() as connection:
            logged = service.log_values(
                connection, workspace_id=ctx.workspace_id, channel=channel, day=day, user_id=ctx.user_id,
                entries=[service.Entry(name, n.value, n.percent, n.currency) for name, n in entries],
            )
            return views.kpi_logged(logged, today=ctx.today, locale=loc)
    if verb == "define":
        spec = parse_define(rest)
        spec = dataclasses.replace(
            spec, name=metric_name(ctx, spec.name),
            numerator=metric_name(ctx, spec.numerator) if spec.numerator else spec.numerator,
            denominator=metric_name(ctx, spec.denominator) if spec.denominator else spec.denominator,
        )
        with ctx.db.session() as session:
            result = service.define_metric(session, workspace_id=ctx.workspace_id, spec=spec, user_id=ctx.user_id)
            return views.kpi_defined(service.MetricCard.of(result.metric), created=result.created, changed=result.changed,
                                     locale=loc)
    if verb == "show":
        request = parse_show(rest, ctx)
        with ctx.db.session(write=False) as session:
            metric = service.get_metric(session, workspace_id=ctx.workspace_id, name_or_number=_metric_ref(request.metric))
            if request.channel:  # shown under its first spelling, wherever it is named by another
                request = dataclasses.replace(request, channel=channels.resolve(
                    session, workspace_id=ctx.workspace_id, channel=request.channel) or None)
            current = service.period_value(session, metric=metric, start=request.start, end=request.end, channel=request.channel)
            comparison = service.compare_periods(
                session, metric=metric, start=request.start, end=request.end, today=ctx.today, channel=request.channel
            )
            if request.why:
                moves = service.why_it_moved(
                    session, workspace_id=ctx.workspace_id, metric=metric, start=request.start, end=request.end,
                    today=ctx.today, comparison=comparison, channel=request.channel,
                )
                return views.kpi_why(service.MetricCard.of(metric), moves, comparison, start=request.start, end=request.end, today=ctx.today,
                                     locale=loc)
            canon = channels.canon(session, workspace_id=ctx.workspace_id)
            rows = [
                g for g in goal_service.list_goals(session, workspace_id=ctx.workspace_id)
                if g.metric_id == metric.id and (request.channel is None or not g.channel or canon.same(g.channel, request.channel))
            ]
            goals = [(goal_service.GoalCard.of(g), goal_service.progress(session, goal=g, today=ctx.today)) for g in rows]
            reply = views.kpi_show(
                service.MetricCard.of(metric), current, comparison, start=request.start, end=request.end, by_channel=request.by_channel,
                channel=request.channel, goals=goals, today=ctx.today, locale=loc,
            )
            # the chart is drawn and uploaded after the ack, from what was read here
            chart = PostChart(
                workspace_id=ctx.workspace_id, channel_id=ctx.channel_id, user_id=ctx.user_id,
                spec={
                    "type": "ratio" if metric.is_ratio and not request.by_channel else "breakdown",
                    "metric_id": metric.id,
                    "start": request.start.isoformat(),
                    "end": request.end.isoformat(),
                    "name": f"kpi-K-{metric.number}",
                    "channel": request.channel,
                    "goals": [g.id for g in rows],
                },
                comment=f"<@{ctx.user_id}> · `/kpi show {esc(rest)}`", locale=loc, label=rest,
            )
            return Answer(reply, (chart,))
    if verb == "import":
        if rest:
            raise ParseError.of("error.command.takes_nothing", usage=DOC.usage, command="/kpi import", rest=rest)
        view = import_modal(locale=loc, metadata={M_CHANNEL: ctx.channel_id, M_LOCALE: loc})
        return Answer(Reply(text=""), (OpenModal(view, ctx.trigger_id, ctx.workspace_id, loc),))
    if verb == "export":
        return export_answer(parse_export(rest, ctx), ctx)
    raise ParseError.of("error.command.unknown_action", usage=DOC.usage, verb=verb, command="/kpi")


# ---- exports ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportRequest:
    metrics: list[str]
    start: date
    end: date
    by_channel: bool
    channel: str | None
    fmt: str


def parse_format(value: str | None) -> str:
    return parse_choice(value, list(FORMATS), name="format") if value else FORMATS[0]


def parse_export(text: str, ctx: CommandContext) -> ExportRequest:
    parsed = parse_args(text, options={"period", "by", "channel", "format"}, usage=DOC.usage)
    start, end = parse_period(parsed.options.get("period", "30d"), today=ctx.today)
    by = parsed.options.get("by")
    if by is not None and by.lower() not in ("channel", "channels", "渠道"):
        raise ParseError.of("error.kpi.by", usage=DOC.usage, by=by)
    return ExportRequest([w.text for w in parsed.words if w.text], start, end, by is not None,
                         parsed.options.get("channel"), parse_format(parsed.options.get("format")))


def export_answer(request: ExportRequest, ctx: CommandContext) -> Answer:
    """The metrics are checked now (an unknown one is a private error); the file is made and sent after the ack."""
    with ctx.db.session(write=False) as session:
        metrics = [service.get_metric(session, workspace_id=ctx.workspace_id, name_or_number=_metric_ref(name))
                   for name in request.metrics]
        ids = list(dict.fromkeys(m.id for m in metrics))
    spec = {"metric_ids": ids, "start": request.start.isoformat(), "end": request.end.isoformat(),
            "by_channel": request.by_channel, "channel": request.channel}
    return Answer(preparing(ctx.locale), (SendExport(ctx.workspace_id, ctx.user_id, "kpi", spec, request.fmt, ctx.locale),))


def preparing(locale: str) -> Reply:
    return Builder().section(":hourglass_flowing_sand: " + t("export.preparing", locale)).build()


# ---- importing a file sent in Slack ----------------------------------------------------------------


def import_modal(*, locale: str, metadata: dict[str, Any]) -> dict[str, Any]:
    """A file input (one CSV or XLSX) and the preset; the preview follows by DM."""
    options = [{"text": {"type": "plain_text", "text": t(f"import.preset.{name}", locale)}, "value": name}
               for name in PRESET_CHOICES]
    return {
        "type": "modal",
        "callback_id": CallbackId.KPI_IMPORT_MODAL,
        "title": {"type": "plain_text", "text": t("import.modal_title", locale)},
        "submit": {"type": "plain_text", "text": t("import.modal_submit", locale)},
        "close": {"type": "plain_text", "text": t("modal.cancel", locale)},
        "private_metadata": modals.encode_metadata(metadata),
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": t("import.modal_about", locale)}},
            {"type": "input", "block_id": BlockId.FILE, "label": {"type": "plain_text", "text": t("import.modal_file", locale)},
             "element": {"type": "file_input", "action_id": FIELD, "filetypes": ["csv", "xlsx"], "max_files": 1}},
            {"type": "input", "block_id": BlockId.PRESET,
             "label": {"type": "plain_text", "text": t("import.modal_preset", locale)},
             "element": {"type": "static_select", "action_id": FIELD, "options": options, "initial_option": options[0]}},
        ],
    }


def submit_import(ack: Ack, sub: Submission) -> list[FollowUp]:
    files = ((sub.values.get(BlockId.FILE) or {}).get(FIELD) or {}).get("files") or []
    if not isinstance(files, list) or len(files) != 1 or not isinstance(files[0], dict) or not files[0].get("id"):
        return field_errors(ack, {BlockId.FILE: t("import.one_file", sub.locale)})
    name = str(files[0].get("name") or "")
    if not name.lower().endswith((".csv", ".xlsx")):
        return field_errors(ack, {BlockId.FILE: t("import.not_a_table", sub.locale, name=esc(name))})
    preset = option_value(sub.values, BlockId.PRESET) or "auto"
    if preset not in PRESET_CHOICES:
        preset = "auto"
    ack()
    return [PreviewImport(sub.team, sub.user, str(files[0]["id"]), preset, sub.locale)]


def _pending_id(body: dict[str, Any]) -> int | None:
    value = str(first_action(body).get("value") or "")
    return int(value) if value.isdigit() else None


def _answer(text: str) -> Respond:
    return Respond(text=text, response_type="ephemeral", replace_original=False)


def on_import_click(runtime: Runtime, body: dict[str, Any], client: WebClient) -> list[FollowUp]:
    """Import: only the click that moves the pending import to `importing` imports; any other is told why."""
    team, user = team_of(body), user_of(body)
    locale = user_locale(runtime, client, team, user)
    pending_id = _pending_id(body)
    if pending_id is None:
        return []
    now = runtime.clock()
    claimed, row = runtime.db.retrying(
        lambda session: pending_imports.claim(session, workspace_id=team, pending_id=pending_id, now=now))
    if claimed:
        return [RunImport(team, user, pending_id, locale)]
    return [_answer(_not_claimed(row, now, locale))]


def _not_claimed(row: pending_imports.Pending | None, now: Any, locale: str) -> str:
    if row is None or pending_imports.expired(row, now):
        return ":hourglass: " + t("import.expired", locale)
    if row.status == "importing":
        return ":hourglass_flowing_sand: " + t("import.under_way", locale, file=esc(row.filename))
    if row.status == "done":
        return ":information_source: " + t("import.already_done", locale, file=esc(row.filename))
    if row.status == "cancelled":
        return ":information_source: " + t("import.already_cancelled", locale, file=esc(row.filename))
    return ":information_source: " + t("import.not_ready", locale)


def on_cancel_click(runtime: Runtime, body: dict[str, Any], client: WebClient) -> list[FollowUp]:
    team, user = team_of(body), user_of(body)
    locale = user_locale(runtime, client, team, user)
    pending_id = _pending_id(body)
    if pending_id is None:
        return []
    now = runtime.clock()
    cancelled, row = runtime.db.retrying(
        lambda session: pending_imports.cancel(session, workspace_id=team, pending_id=pending_id, now=now))
    if not cancelled:
        return [_answer(_not_claimed(row, now, locale))]
    text = ":no_entry_sign: " + t("import.cancelled", locale, file=esc(row.filename if row else ""))
    url = body.get("response_url")
    if url:
        return [ReplaceOriginal(str(url), text, Builder().section(text).build().blocks)]
    return [_answer(text)]


def dm_file_event(body: dict[str, Any]) -> dict[str, Any] | None:
    """A file someone shared in their DM with the bot: a `message` (subtype `file_share`, the files in
    `files`) or a `file_shared` event, as {user, file}; None for anything else (a bot's own upload included)."""
    event = body.get("event") or {}
    if event.get("type") == "message" and event.get("subtype") == "file_share" and event.get("channel_type") == "im":
        files = [f for f in event.get("files") or [] if isinstance(f, dict) and f.get("id")]
        if event.get("bot_id") or not event.get("user") or not files:
            return None
        return {"user": str(event["user"]), "file": str(files[0]["id"]), "name": str(files[0].get("name") or "")}
    if event.get("type") == "file_shared" and str(event.get("channel_id") or "").startswith("D"):
        file_id = event.get("file_id") or (event.get("file") or {}).get("id")
        if not event.get("user_id") or not file_id:
            return None
        return {"user": str(event["user_id"]), "file": str(file_id), "name": ""}
    return None


def on_dm_file(runtime: Runtime, body: dict[str, Any], client: WebClient) -> list[FollowUp]:
    shared = dm_file_event(body)
    if shared is None or shared["user"] == (body.get("authorizations") or [{}])[0].get("user_id"):
        return []
    if shared["name"] and not shared["name"].lower().endswith((".csv", ".xlsx", ".xlsm")):
        return []  # an image or a PDF in the DM: not a KPI file, nothing to say
    return [PreviewImport(team_of(body) or str(body.get("team_id") or ""), shared["user"], shared["file"])]


def _is_dm_file_share(body: dict[str, Any]) -> bool:
    return dm_file_event(body) is not None


def register(app: App, runtime: Runtime) -> None:
    on_submission(app, runtime, CallbackId.KPI_IMPORT_MODAL, submit_import)
    on_action(app, runtime, ActionId.KPI_IMPORT_RUN, lambda body, client: on_import_click(runtime, body, client))
    on_action(app, runtime, ActionId.KPI_IMPORT_CANCEL, lambda body, client: on_cancel_click(runtime, body, client))

    def lazy(body: dict[str, Any], context: BoltContext) -> None:
        client = context.client
        runtime.after_ack.run(on_dm_file(runtime, body, client), client=client)

    def just_ack(ack: Ack) -> None:
        ack()

    # before commands.retro's catch-all `message` listener: Bolt runs the first listener that matches
    app.event("message", matchers=[_is_dm_file_share])(ack=just_ack, lazy=[lazy])
    app.event("file_shared")(ack=just_ack, lazy=[lazy])


COMMAND = SlashCommand(DOC, handle)
