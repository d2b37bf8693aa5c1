"""/mkt: help, the digest on demand, and each channel's schedules for the digest and the KPI report."""

from __future__ import annotations

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.locale import locale_in
from bot.render import views
from bot.render.reply import Builder, Reply
from bot.render.text import fmt_date
from bot.services import schedules as service
from commands.base import CommandContext, split_verb
from commands.grammar import ParseError, parse_args, parse_time_of_day, parse_weekdays

USAGE = """/mkt help
/mkt digest now
/mkt schedule digest <HH:MM> [tz:<IANA zone>] [days:mon-fri]
/mkt schedule report weekly <day> <HH:MM> [tz:<IANA zone>]
/mkt schedule list         /mkt unschedule <id>
Example: /mkt schedule digest 09:30 tz:Asia/Shanghai days:mon-fri"""


def _zone(value: str | None, ctx: CommandContext) -> str:
    if not value:
        return ctx.zone.key
    try:
        return ZoneInfo(value).key
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ParseError(f"`tz:{value}` is not an IANA time zone; try Asia/Shanghai, Europe/Berlin or America/New_York.", USAGE) from exc


def parse_schedule(text: str, ctx: CommandContext) -> service.ScheduleCreate:
    parsed = parse_args(text, options={"tz": "tz", "timezone": "tz", "days": "days", "at": "at"}, usage=USAGE)
    words = [t.text for t in parsed.words]
    if not words:
        raise ParseError("Say what to schedule: `digest` or `report`.", USAGE)
    kind = words[0].lower()
    zone = _zone(parsed.options.get("tz"), ctx)
    if kind == "digest":
        rest = words[1:]
        if "at" in parsed.options:
            rest = [parsed.options["at"], *rest]
        if len(rest) != 1:
            raise ParseError("Give one time of day: `/mkt schedule digest 09:30`.", USAGE)
        hour, minute = parse_time_of_day(rest[0])
        days = parse_weekdays(parsed.options["days"]) if "days" in parsed.options else list(range(5))
        return service.ScheduleCreate("digest", ctx.channel_id, hour, minute, zone, days)
    if kind in ("report", "reports", "charts"):
        rest = words[1:]
        if rest and rest[0].lower() == "weekly":
            rest = rest[1:]
        if len(rest) != 2:
            raise ParseError("Give a weekday and a time: `/mkt schedule report weekly mon 09:00`.", USAGE)
        days = parse_weekdays(rest[0])
        if len(days) != 1:
            raise ParseError(f"A weekly report goes out on one day; got `{rest[0]}`.", USAGE)
        hour, minute = parse_time_of_day(rest[1])
        return service.ScheduleCreate("report", ctx.channel_id, hour, minute, zone, days)
    raise ParseError(f"`{words[0]}` cannot be scheduled; use `digest` or `report`.", USAGE)


def _next_text(row: service.Schedule | object, now: datetime) -> str:
    assert isinstance(row, service.Schedule)
    slot = service.next_slot(row, now)
    if slot is None:
        return "never"
    local = slot.astimezone(ZoneInfo(row.timezone))
    return f"{fmt_date(local.date(), now.astimezone(ZoneInfo(row.timezone)).date())} {local:%H:%M} {row.timezone}"


def schedule_line(row: service.Schedule, now: datetime) -> str:
    what = "Daily digest" if row.kind == "digest" else "Weekly KPI report"
    days = service.describe_days(service.weekdays(row))
    last = row.last_status or "nothing sent yet"
    if row.last_status and row.last_slot:
        last = f"{row.last_status} for {row.last_slot.astimezone(ZoneInfo(row.timezone)):%b %-d %H:%M}"
    if row.last_error:
        last += f" ({row.last_error[:80]})"
    return (
        f"*S-{row.number}* {what} in <#{row.slack_channel_id}> at {row.hour:02d}:{row.minute:02d} {row.timezone}, {days}\n"
        f"      next: {_next_text(row, now)} · last: {last}"
    )


def handle(text: str, ctx: CommandContext) -> Reply:
    verb, rest = split_verb(text)
    if verb in ("", "help"):
        return views.bot_help(locale=locale_in(ctx.extra))
    if verb == "digest":
        if rest.lower() not in ("now", "", "现在"):
            raise ParseError("`/mkt digest now` posts today's digest in this channel.", USAGE)
        ctx.extra["post_digest"] = f"digest-now:{ctx.channel_id}:{uuid.uuid4().hex}"
        return Builder().section(":hourglass_flowing_sand: Putting today's digest together for this channel…").build()
    if verb == "schedule":
        sub, _tail = split_verb(rest)
        if sub in ("list", "ls", ""):
            return _list(ctx)
        data = parse_schedule(rest, ctx)
        with ctx.db.session() as session:
            row, created = service.create_schedule(session, workspace_id=ctx.workspace_id, data=data, user_id=ctx.user_id)
            head = "Scheduled" if created else "Moved"
            return Builder().section(f":calendar: {head} *S-{row.number}*\n" + schedule_line(row, ctx.now)).build(
                text=f"{head} S-{row.number}"
            )
    if verb in ("unschedule", "remove"):
        token = rest.strip()
        number = token.upper().removeprefix("S").removeprefix("-")
        if not number.isdigit():
            raise ParseError("Give the schedule's id from `/mkt schedule list`, e.g. `/mkt unschedule S-2`.", USAGE)
        with ctx.db.session() as session:
            row = service.remove_schedule(session, workspace_id=ctx.workspace_id, number=int(number))
            return Builder().section(f":wastebasket: Removed S-{row.number}; nothing more will be sent for it.").build()
    raise ParseError(f"`{verb}` is not a /mkt action.", USAGE)


def _list(ctx: CommandContext) -> Reply:
    with ctx.db.session(write=False) as session:
        rows = service.list_schedules(session, workspace_id=ctx.workspace_id)
        if not rows:
            return Builder().section(
                "*Schedules*\nNone yet. `/mkt schedule digest 09:30 days:mon-fri` posts the daily digest here."
            ).build()
        return Builder().section(f"*Schedules* · {len(rows)}").lines_section([schedule_line(r, ctx.now) for r in rows]).build()
