"""/mkt: help, the digest on demand, each channel's schedules for the digest and the KPI report, the team's
language, each person's notifications, and the workspace admins' API tokens."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.errors import UserError
from bot.i18n import EN, has_key, resolve, t
from bot.i18n.fmt import fmt_date
from bot.render import views
from bot.render.reply import Builder, Reply
from bot.services import languages, notifications
from bot.services import schedules as service
from commands import campaign, feedback, goal, kpi, retro, task
from commands.base import HELP_WORDS, CommandContext, CommandDoc, SlashCommand, split_verb
from commands.followups import Answer, ManageApiTokens, PostDigestNow
from commands.grammar import ParseError, _norm, parse_args, parse_time_of_day, parse_weekdays, parse_zone

DOC = CommandDoc(
    "/mkt",
    forms=(
        "/mkt help",
        "/mkt digest now",
        "/mkt schedule digest <HH:MM> [tz:<city or IANA zone>] [days:mon-fri]",
        "/mkt schedule report weekly <day> <HH:MM> [tz:<city or IANA zone>] [attach:xlsx]",
        "/mkt schedule list         /mkt unschedule <id>",
        "/mkt language [#channel] zh-CN|en|auto",
        "/mkt notify [on|off]",
        "/mkt api-token new [<name>]    /mkt api-token list    /mkt api-token revoke <id>",
    ),
    notes=(
        "usage.mkt.example",
    ),
    summary="help.mkt",
    example="/mkt schedule digest 09:30 tz:Asia/Shanghai days:mon-fri",
)


def _zone(value: str | None, ctx: CommandContext) -> str:
    """An IANA zone or a city as typed (grammar.parse_zone)."""
    if not value:
        return ctx.zone.key
    try:
        return parse_zone(value)
    except ParseError as exc:
        raise exc.with_usage(DOC.usage) from None


def parse_schedule(text: str, ctx: CommandContext) -> service.ScheduleCreate:
    parsed = parse_args(text, options={"tz": "tz", "timezone": "tz", "days": "days", "at": "at", "attach": "attach"},
                        usage=DOC.usage)
    words = [t.text for t in parsed.words]
    if not words:
        raise ParseError.of("error.mkt.what", usage=DOC.usage)
    kind = words[0].lower()
    zone = _zone(parsed.options.get("tz"), ctx)
    if kind == "digest":
        if "attach" in parsed.options:
            raise ParseError.of("error.mkt.attach_report_only", usage=DOC.usage)
        rest = words[1:]
        if "at" in parsed.options:
            rest = [parsed.options["at"], *rest]
        if len(rest) != 1:
            raise ParseError.of("error.mkt.one_time", usage=DOC.usage)
        hour, minute = parse_time_of_day(rest[0])
        days = parse_weekdays(parsed.options["days"]) if "days" in parsed.options else list(range(5))
        return service.ScheduleCreate("digest", ctx.channel_id, hour, minute, zone, days)
    if kind in ("report", "reports", "charts"):
        rest = words[1:]
        if rest and rest[0].lower() == "weekly":
            rest = rest[1:]
        if "days" in parsed.options:  # a weekly report has its one day in the command
            raise ParseError.of("error.mkt.report_days", usage=DOC.usage)
        if len(rest) != 2:
            raise ParseError.of("error.mkt.day_and_time", usage=DOC.usage)
        days = parse_weekdays(rest[0])
        if len(days) != 1:
            raise ParseError.of("error.mkt.one_day", usage=DOC.usage, days=rest[0])
        hour, minute = parse_time_of_day(rest[1])
        attach = parsed.options.get("attach")
        if attach is not None and attach.lower() != "xlsx":
            raise ParseError.of("error.mkt.attach", usage=DOC.usage, value=attach)
        return service.ScheduleCreate("report", ctx.channel_id, hour, minute, zone, days,
                                      attach=attach.lower() if attach else None)
    raise ParseError.of("error.mkt.cannot_schedule", usage=DOC.usage, what=words[0])


def _next_text(row: service.Schedule | object, now: datetime, locale: str = EN) -> str:
    assert isinstance(row, service.Schedule)
    slot = service.next_slot(row, now)
    if slot is None:
        return t("schedule.never", locale)
    local = slot.astimezone(ZoneInfo(row.timezone))
    return f"{fmt_date(local.date(), now.astimezone(ZoneInfo(row.timezone)).date(), locale)} {local:%H:%M} {row.timezone}"


def describe_days(days: list[int], locale: str = EN) -> str:
    """`service.describe_days` in the reply's language: every day, mon-fri, or the days listed."""
    ordered = sorted(days)
    if ordered == list(range(7)):
        return t("schedule.days.every_day", locale)
    if ordered == list(range(5)):
        return t("schedule.days.weekdays", locale)
    return t("schedule.days.separator", locale).join(t(f"schedule.day.{d}", locale) for d in ordered)


def _slot_text(when: datetime, locale: str) -> str:
    if resolve(locale) == EN:
        return f"{when:%b %-d %H:%M}"
    return f"{when.month}月{when.day}日 {when:%H:%M}"


def _status_text(status: str, locale: str) -> str:
    key = f"schedule.status.{status}"
    return t(key, locale) if has_key(key, EN) else status


def schedule_line(row: service.Schedule, now: datetime, locale: str = EN) -> str:
    what = t(f"schedule.kind.{'digest' if row.kind == 'digest' else 'report'}", locale)
    if row.attach:
        what += t("schedule.attach", locale, format=row.attach.upper())
    days = describe_days(service.weekdays(row), locale)
    last = _status_text(row.last_status, locale) if row.last_status else t("schedule.nothing_sent", locale)
    if row.last_status and row.last_slot:
        last = t("schedule.last_for", locale, status=_status_text(row.last_status, locale),
                 when=_slot_text(row.last_slot.astimezone(ZoneInfo(row.timezone)), locale))
    if row.last_error:
        last += f" ({row.last_error[:80]})"
    return t(
        "schedule.line", locale, ref=f"S-{row.number}", what=what, channel=f"<#{row.slack_channel_id}>",
        time=f"{row.hour:02d}:{row.minute:02d}", zone=row.timezone, days=days, next=_next_text(row, now, locale), last=last,
    )


def handle(text: str, ctx: CommandContext) -> Reply | Answer:
    verb, rest = split_verb(text)
    loc = ctx.locale
    if verb in ("", "help"):
        return help_reply(locale=loc)
    if verb == "digest":
        if rest.lower() not in ("now", "", "现在"):
            raise ParseError.of("error.mkt.digest_now", usage=DOC.usage)
        # keyed by the request: Slack re-sending the same command never posts the digest twice
        digest = PostDigestNow(ctx.workspace_id, ctx.channel_id, f"digest-now:{ctx.channel_id}:{ctx.trigger_id or ctx.user_id}", loc)
        return Answer(Builder().section(":hourglass_flowing_sand: " + t("mkt.digest_preparing", loc)).build(), (digest,))
    if verb == "schedule":
        sub, _tail = split_verb(rest)
        if sub in ("list", "ls", ""):
            return _list(ctx, loc)
        if sub in HELP_WORDS:
            return help_reply(locale=loc)
        data = parse_schedule(rest, ctx)
        with ctx.db.session() as session:
            row, created = service.create_schedule(session, workspace_id=ctx.workspace_id, data=data, user_id=ctx.user_id,
                                                   now=ctx.now)
            head = "schedule.created" if created else "schedule.moved"
            ref = f"S-{row.number}"
            return Builder().section(f":calendar: {t(head, loc, ref=ref)}\n" + schedule_line(row, ctx.now, loc)).build(
                text=t(f"{head}_plain", loc, ref=ref)
            )
    if verb in ("language", "lang", "语言"):
        return _language(rest, ctx, loc)
    if verb in ("notify", "notifications", "通知"):
        return _notify(rest, ctx, loc)
    if verb in ("api-token", "api-tokens", "token", "tokens"):
        return Answer(Builder().section(":lock: " + t("api_token.checking", loc)).build(), (parse_api_token(rest, ctx),))
    if verb in ("unschedule", "remove"):
        token = _norm(rest)  # S-2, s2, #2, 2, Ｓ－２
        number = token.upper().removeprefix("#").removeprefix("S").removeprefix("-")
        if not number.isdigit():
            raise ParseError.of("error.mkt.schedule_id", usage=DOC.usage)
        with ctx.db.session() as session:
            row = service.remove_schedule(session, workspace_id=ctx.workspace_id, number=int(number))
            return Builder().section(":wastebasket: " + t("schedule.removed", loc, ref=f"S-{row.number}")).build()
    raise ParseError.of("error.command.unknown_action", usage=DOC.usage, verb=verb, command="/mkt")


_CHANNEL_REF = re.compile(r"^<#([CG][A-Z0-9]+)(?:\|[^<>]*)?>$")


def _language(rest: str, ctx: CommandContext, locale: str) -> Reply:
    """`/mkt language zh-CN`: the language of every post the team reads together; `/mkt language #channel en`
    for one channel; with nothing after it, what is set."""
    words = rest.split()
    channel: str | None = None
    if words and (match := _CHANNEL_REF.match(words[0])):
        channel, words = match.group(1), words[1:]
    if not words:
        with ctx.db.session(write=False) as session:
            found = languages.settings(session, workspace_id=ctx.workspace_id)
        workspace = next((s.language for s in found if s.channel is None), languages.AUTO)
        channels = "".join(f" · <#{s.channel}> {t('mkt.language.' + s.language, locale)}" for s in found if s.channel)
        return Builder().section(t("mkt.language_list", locale, workspace=t("mkt.language." + workspace, locale),
                                   channels=channels)).build()
    if len(words) != 1:
        raise ParseError.of("error.language", usage=DOC.usage, value=" ".join(words))
    try:
        language = languages.parse_language(words[0])
    except UserError as exc:
        raise ParseError.of("error.language", usage=DOC.usage, value=words[0]) from exc
    with ctx.db.session() as session:
        languages.set_language(session, workspace_id=ctx.workspace_id, channel=channel, language=language,
                               user_id=ctx.user_id)
    where = (t("mkt.language_where_channel", locale, channel=channel) if channel
             else t("mkt.language_where_workspace", locale))
    return Builder().section(":globe_with_meridians: " + t("mkt.language_set", locale, where=where,
                                                            language=t("mkt.language." + language, locale))).build()


_SWITCH = {"on": True, "yes": True, "开": True, "开启": True, "off": False, "no": False, "关": False, "关闭": False}


def _notify(rest: str, ctx: CommandContext, locale: str) -> Reply:
    """`/mkt notify off|on`: direct messages about what others change on one's own work, and check-in nudges, for
    the person who types it in this workspace; with nothing after it, the setting."""
    word = rest.strip().lower()
    if not word:
        with ctx.db.session(write=False) as session:
            enabled = notifications.is_enabled(session, workspace_id=ctx.workspace_id, user_id=ctx.user_id)
    elif word in _SWITCH:
        enabled = _SWITCH[word]
        with ctx.db.session() as session:
            notifications.set_enabled(session, workspace_id=ctx.workspace_id, user_id=ctx.user_id, enabled=enabled,
                                      now=ctx.now)
    else:
        raise ParseError.of("error.mkt.notify", usage=DOC.usage, value=rest.strip())
    return Builder().section(t("mkt.notify.is_on" if enabled else "mkt.notify.is_off", locale)).build()


def parse_api_token(text: str, ctx: CommandContext) -> ManageApiTokens:
    """`new [<name>]`, `list`, `revoke <id>`: whether the person may is checked after the ack (users.info)."""
    sub, rest = split_verb(text)
    if sub in ("new", "create", "add"):
        return ManageApiTokens(ctx.workspace_id, ctx.user_id, "new", rest, ctx.locale)
    if sub in ("list", "ls", ""):
        if rest:
            raise ParseError.of("error.command.takes_nothing", usage=DOC.usage, command="/mkt api-token list", rest=rest)
        return ManageApiTokens(ctx.workspace_id, ctx.user_id, "list", "", ctx.locale)
    if sub in ("revoke", "delete", "remove"):
        number = _norm(rest).removeprefix("#")
        if not number.isdigit():
            raise ParseError.of("error.mkt.token_id", usage=DOC.usage)
        return ManageApiTokens(ctx.workspace_id, ctx.user_id, "revoke", number, ctx.locale)
    raise ParseError.of("error.command.unknown_action", usage=DOC.usage, verb=sub, command="/mkt api-token")


def _list(ctx: CommandContext, locale: str = EN) -> Reply:
    with ctx.db.session(write=False) as session:
        rows = service.list_schedules(session, workspace_id=ctx.workspace_id)
        if not rows:
            return Builder().section(t("schedule.list.empty", locale)).build()
        return Builder().section(t("schedule.list.title", locale, n=len(rows))).lines_section(
            [schedule_line(r, ctx.now, locale) for r in rows]
        ).build()


def help_reply(*, locale: str = EN) -> Reply:
    """`/mkt help`: every command's summary and example, from each command's own description."""
    return views.bot_help([(doc.name, doc.summary, doc.example) for doc in DOCS], locale=locale)


#: every command's description, in the order `/mkt help` and the README list them
DOCS = (task.DOC, goal.DOC, kpi.DOC, campaign.DOC, feedback.DOC, retro.DOC, DOC)

COMMAND = SlashCommand(DOC, handle, help=help_reply)
