"""What every listener shares: the command context and the one slash-command listener, the ack wrapper that
maps errors to private replies, reading a form's values, the sealed private_metadata of a modal, and the
wiring of a button or a form to the after-ack executor.

Shape of every flow:
- a slash command is answered on the ack path by its handler, which returns an `Answer` (the reply and its
  follow-ups, commands.followups); the follow-ups run after the ack on the runtime's pool;
- a click or a shortcut is acknowledged at once; its handler runs in a lazy listener (which may call
  users.info or read the database) and returns follow-ups (open a modal, answer through the response_url);
- a modal submission is validated and written on the ack path, because field errors must travel back in the
  acknowledgement (`response_action: errors`); what follows it (the private confirmation, the refreshed
  Home, the updated message) is returned as follow-ups and run after the ack.

Records are always looked up by the reference in the button or option ("T-12") within the clicking user's
workspace (team id), never by a database id.
"""

from __future__ import annotations

import functools
import logging
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot.directory import PENDING, UserDirectory
from bot.errors import LocalizedError, NotFound, UserError
from bot.i18n import DEFAULT_LOCALE, t
from bot.ids import ActionId, BlockId, CallbackId
from bot.render import modals
from bot.render.reply import Builder, Reply
from bot.runtime import Runtime
from bot.services import campaigns as campaign_service
from bot.services import channels as channel_service
from bot.services import goals as goal_service
from bot.services import kpis as kpi_service
from bot.services.refs import get_by_number, number_by_name
from bot.slack_text import truncate
from commands.followups import Answer, Confirm, FollowUp, OpenModal, PublishHome, RefreshHomes, WarmLocale
from commands.followups import Respond as RespondLater
from commands.grammar import (
    MAX_YEAR,
    MIN_YEAR,
    ParseError,
    UserRef,
    parse_number,
    parse_record,
    parse_ref,
    parse_user,
    ref_shaped,
)
from storage.db import CommitOutcomeUnknown, Database

log = logging.getLogger(__name__)

JSON = dict[str, Any]
FIELD = ActionId.FIELD

# private_metadata keys (short: the whole thing must stay under 3,000 characters)
M_CHANNEL, M_LOCALE, M_ORIGIN, M_REF, M_URL, M_TS, M_EPHEMERAL, M_PERMALINK = "c", "l", "o", "r", "u", "ts", "e", "p"
ORIGIN_COMMAND, ORIGIN_HOME, ORIGIN_MESSAGE, ORIGIN_SHORTCUT = "cmd", "home", "msg", "shortcut"


@dataclass
class CommandContext:
    db: Database
    workspace_id: str
    user_id: str
    channel_id: str
    now: datetime
    zone: ZoneInfo
    client: WebClient | None = None
    directory: UserDirectory | None = None
    locale: str = DEFAULT_LOCALE  # the reply's language, read from the cache before the handler ran
    after_ack: bool = False  # run again after the ack: a `@name` may wait for the directory
    trigger_id: str = ""

    @property
    def today(self) -> date:
        return self.now.astimezone(self.zone).date()

    def record_number(self, value: str, kind: str) -> int:
        """A campaign or goal by reference (C-2) or by name (`Double 11`; a unique prefix of one will do)."""
        found = parse_record(value, kind)
        if isinstance(found, int):
            return found
        with self.db.session(write=False) as session:
            try:
                return number_by_name(session, workspace_id=self.workspace_id, kind=kind, name=found)
            except NotFound:
                if ref_shaped(value):  # `X-1` is no name here: say what a reference looks like
                    parse_ref(value, kind)
                raise

    def resolve_user(self, value: str) -> str:
        ref = parse_user(value)
        return self.resolve(ref, value)

    def resolve(self, ref: UserRef, typed: str) -> str:
        if ref.user_id:
            return ref.user_id
        if self.directory is None or self.client is None or not ref.name:
            raise ParseError.of("error.command.cannot_look_up", typed=typed)
        if self.after_ack:
            user_id = self.directory.wait(self.client, self.workspace_id, ref.name)
            if user_id is None and not self.directory.is_loaded(self.workspace_id):
                raise ParseError.of("error.command.cannot_look_up", typed=typed)
        else:
            found = self.directory.lookup(self.client, self.workspace_id, ref.name)
            if found is PENDING:
                raise NameNotReady(ref.name)
            user_id = found  # type: ignore[assignment]
        if user_id is None:
            raise ParseError.of("error.command.unknown_person", typed=typed)
        return user_id


class NameNotReady(Exception):
    """A `@name` the directory cannot answer from memory yet: the command finishes after the ack."""


#: a handler returns its reply, or an Answer when there is work for after the ack
Handler = Callable[[str, CommandContext], Reply | Answer]


HELP_WORDS = ("help", "-h", "--help", "?", "帮助")


def run_handler(
    handler: Handler, text: str, ctx: CommandContext, usage: str, help_reply: Callable[[], Reply] | None = None
) -> Answer:
    """Run one command; bad input and unknown records become a private reply with the usage, and nothing is written.

    The reply is in `ctx.locale` (read from the cache before the handler ran).
    """
    # PostgreSQL text cannot hold NUL; nobody types one on purpose.
    stripped = text.replace("\x00", "").strip()
    if stripped.lower() in HELP_WORDS:
        return Answer(help_reply() if help_reply else error_reply_usage(usage, ctx.locale))
    locale = ctx.locale
    try:
        # One unit of work, run again from the start if the database connection is lost (a restart): an
        # attempt that was rolled back leaves no follow-ups behind, since they are only what it returned.
        result = ctx.db.run(lambda: handler(stripped, ctx))
        return result if isinstance(result, Answer) else Answer(result)
    except NameNotReady:
        raise
    except LocalizedError as exc:  # ParseError, UserError, NotFound
        return Answer(localized_error_reply(exc.text(locale), exc.usage or usage, locale))
    except CommitOutcomeUnknown:
        error_id = uuid.uuid4().hex[:8]
        log.exception("commit outcome unknown (error id %s): %r", error_id, text)
        return Answer(localized_error_reply(t("error.commit_unknown", locale, error_id=error_id), None, locale))
    except Exception:
        error_id = uuid.uuid4().hex[:8]
        log.exception("command failed (error id %s): %r", error_id, text)
        return Answer(localized_error_reply(t("error.internal", locale, error_id=error_id), None, locale))


def localized_error_reply(message: str, usage: str | None, locale: str | None) -> Reply:
    """`bot.render.reply.error_reply` with its "Usage" heading and the usage's notes in `locale` (its forms are
    command syntax, the same in every language)."""
    b = Builder().section(f":warning: {message}")
    if usage:
        shown = usage_in(usage, locale)
        b.section(f"*{t('error.usage', locale)}*\n```{shown}```")
    return b.build(text=message + (f"\n{t('error.usage_plain', locale)}\n{usage_in(usage, locale)}" if usage else ""))


def error_reply_usage(usage: str, locale: str | None = None) -> Reply:
    shown = usage_in(usage, locale)
    return Builder().section(f"```{shown}```").build(text=shown)


class Usage(str):
    """A command's usage: its forms (command syntax, one line each) and its notes (catalog keys: date words,
    examples, the form). As a `str` it is the English text; `usage_in(usage, locale)` gives the reader's."""

    forms: tuple[str, ...]
    notes: tuple[str, ...]

    def __new__(cls, forms: Sequence[str], notes: Sequence[str] = ()) -> Usage:
        made = super().__new__(cls, "\n".join((*forms, *(t(key, DEFAULT_LOCALE) for key in notes))))
        made.forms, made.notes = tuple(forms), tuple(notes)
        return made

    def render(self, locale: str | None) -> str:
        return "\n".join((*self.forms, *(t(key, locale) for key in self.notes)))


def usage_in(usage: str, locale: str | None) -> str:
    """A usage as the reader reads it: a `Usage`'s notes in `locale`; any other text as it is."""
    return usage.render(locale) if isinstance(usage, Usage) else usage


EXPORT_WORDS = ("export", "导出")
EXPORT_FORMATS = ("xlsx", "csv")


def split_export(text: str, usage: str) -> tuple[str, str | None]:
    """A list command's `export [format:csv|xlsx]`: the text without those words, and the file format asked
    for (None: no export; XLSX unless `format:` says otherwise)."""
    kept: list[str] = []
    export, fmt = False, EXPORT_FORMATS[0]
    for word in text.split():
        key, sep, value = word.replace("=", ":", 1).partition(":")
        if word.lower() in EXPORT_WORDS:
            export = True
        elif sep and key.lower() in ("format", "格式"):
            fmt = value.lower()
            if fmt not in EXPORT_FORMATS:
                raise ParseError.of("error.export.format", usage=usage, value=value)
            export = True
        else:
            kept.append(word)
    return " ".join(kept), fmt if export else None


def split_verb(text: str) -> tuple[str, str]:
    parts = text.split(None, 1)
    if not parts:
        return "", ""
    return parts[0].lower(), parts[1].strip() if len(parts) > 1 else ""


# ---- the slash-command listener --------------------------------------------------------------------

#: the longest command text taken; a longer one is refused whole, with a private reply
MAX_COMMAND_CHARS = 4_000

#: a record form for a command typed with no text: (locale, choices, metadata) → a modal view
FormBuilder = Callable[..., JSON]


@dataclass(frozen=True)
class CommandDoc:
    """A command's one description: the usage shown by `<command> help` and with every bad input (its forms,
    then notes: date words, examples, the form), and its line in `/mkt help` (a catalog key and an example).
    The README's grammar block lists the same forms (tests/unit/test_readme_grammar.py)."""

    name: str
    #: the command's forms, one usage line each; short forms share a line, each starting with the command's name
    forms: tuple[str, ...]
    #: the catalog keys of the usage's lines after the forms (`usage.<command>.<what>`), in the reader's language
    notes: tuple[str, ...]
    #: the catalog key of its one-line summary in `/mkt help`
    summary: str
    #: the example under that summary
    example: str

    @property
    def usage(self) -> Usage:
        return Usage(self.forms, self.notes)

    def each_form(self) -> list[str]:
        """Every form on its own, spaces collapsed: "/task start <T>", "/task done <T>", …"""
        return forms_of(self.name, self.forms)


def forms_of(name: str, lines: Sequence[str]) -> list[str]:
    """The forms on `lines` (blank lines ignored), each cut where the command's name starts again."""
    forms: list[str] = []
    for line in lines:
        forms += [" ".join(part.split()) for part in re.split(rf"\s+(?={re.escape(name)}\b)", line.strip()) if part]
    return forms


@dataclass(frozen=True)
class SlashCommand:
    """One command as its module declares it: its description, the handler, its help reply (it takes `locale=`;
    without one, `help` shows the usage), and the form it opens when typed with no text."""

    doc: CommandDoc
    handle: Handler
    help: Callable[..., Reply] | None = None
    form: FormBuilder | None = None

    @property
    def name(self) -> str:
        return self.doc.name

    @property
    def usage(self) -> Usage:
        return self.doc.usage


def command_context(runtime: Runtime, body: JSON, client: WebClient | None) -> CommandContext:
    return CommandContext(
        db=runtime.db,
        workspace_id=body.get("team_id") or "",
        user_id=body.get("user_id") or "",
        channel_id=body.get("channel_id") or "",
        now=runtime.clock(),
        zone=runtime.zone,
        client=client,
        directory=runtime.directory,
        trigger_id=body.get("trigger_id") or "",
    )


def listen_for_commands(app: App, runtime: Runtime, commands: dict[str, SlashCommand]) -> None:
    """One listener for every command, registered before any button or form: Bolt tries listeners in order
    and builds arguments for each matcher it tries, so a slash command should not walk past them first."""

    def on_command(ack: Ack, body: JSON, context: BoltContext) -> None:
        # Bolt builds each named argument per request: take three, the client and respond() come from the context
        answer_command(commands[body["command"]], runtime, ack, body, context.client, context.respond)

    app.command(re.compile("^(" + "|".join(re.escape(name) for name in commands) + ")$"))(on_command)


def answer_command(
    command: SlashCommand, runtime: Runtime, ack: Ack, body: JSON, client: WebClient, respond: Respond | None
) -> None:
    text = body.get("text") or ""
    team, user = body.get("team_id") or "", body.get("user_id") or ""
    followups: list[FollowUp] = []
    if runtime.locales.needs_warming(team, user):
        followups.append(WarmLocale(team, user))
    if command.form is not None and not text.strip():
        ack()  # the form opens after the ack, with this command's trigger_id
        form = command.form
        runtime.background.submit(after_ack, runtime, lambda: [*followups, *command_form(runtime, form, body, client)],
                                  client, respond)
        return
    ctx = command_context(runtime, body, client)
    # cache only (users.info never delays the ack); someone not looked up yet reads the channel's team language
    ctx.locale = runtime.locales.for_user(runtime.db, team, user, body.get("channel_id"))
    if len(text) > MAX_COMMAND_CHARS:
        # Nothing is parsed or written: a record this long is a paste gone wrong, not a title.
        ack(text=t("command.too_long", ctx.locale, chars=f"{len(text):,}", limit=f"{MAX_COMMAND_CHARS:,}"),
            response_type="ephemeral")
        return
    localized_help = functools.partial(command.help, locale=ctx.locale) if command.help else None
    try:
        answer = run_handler(command.handle, text, ctx, command.usage, localized_help)
    except NameNotReady as pending:
        # Nothing was written (names are resolved before any write): say so, and run the command again after
        # the ack, once the directory has loaded; the answer goes through response_url.
        ack(text=t("command.looking_up", ctx.locale, name=pending.args[0]), response_type="ephemeral")
        runtime.background.submit(
            after_ack, runtime, lambda: [*followups, *finish_after_ack(command, text, ctx, runtime, localized_help)],
            client, respond,
        )
        return
    if answer.reply.text or answer.reply.blocks:
        ack(**answer.reply.ack_kwargs())
    else:
        ack()  # nothing to show (a form opens after the ack): an empty answer, as Slack expects
    # Slow or outbound work runs after the ack on our own pool, and only when this command needs it
    # (Bolt's lazy listeners would copy the request and start a thread for each, every time).
    followups.extend(answer.followups)
    if followups:
        runtime.background.submit(runtime.after_ack.run, followups, client=client, respond=respond)


def finish_after_ack(
    command: SlashCommand, text: str, ctx: CommandContext, runtime: Runtime, help_reply: Callable[[], Reply] | None
) -> list[FollowUp]:
    """The rest of a command whose `@name` needed the directory: run it once more, waiting for names this
    time; the answer goes through response_url, then its follow-ups."""
    ctx.after_ack = True
    ctx.now = runtime.clock()
    answer = run_handler(command.handle, text, ctx, command.usage, help_reply)
    return [RespondLater(**answer.reply.ack_kwargs(), replace_original=False, channel=ctx.channel_id, user=ctx.user_id),
            *answer.followups]


def command_form(runtime: Runtime, form: FormBuilder, body: JSON, client: WebClient) -> list[FollowUp]:
    """`/task`, `/goal`, `/campaign`, `/feedback` typed with nothing after them: their form."""
    team, user = team_of(body), user_of(body)
    locale = runtime.locales.resolve(client, runtime.db, team, user)
    view = form(locale=locale, choices=load_choices(runtime, team), metadata={
        M_CHANNEL: body.get("channel_id"), M_ORIGIN: ORIGIN_COMMAND, M_URL: body.get("response_url"), M_LOCALE: locale,
    })
    return [OpenModal(view, str(body.get("trigger_id") or ""), team, locale)]


def after_ack(
    runtime: Runtime, make: Callable[[], Sequence[FollowUp]], client: WebClient, respond: Respond | None
) -> None:
    """Work out the follow-ups off the ack path, then run them."""
    try:
        followups = make()
    except Exception:
        log.exception("a listener failed after its ack")
        return
    runtime.after_ack.run(followups, client=client, respond=respond)


# ---- buttons, shortcuts and events (lazy) ---------------------------------------------------------

#: a click, a shortcut or an event, after its ack: the body and client in, follow-ups out
Lazy = Callable[[JSON, WebClient], Sequence[FollowUp]]


def _just_ack(ack: Ack) -> None:
    ack()


def on_action(app: App, runtime: Runtime, action_id: str | re.Pattern[str], handler: Lazy) -> None:
    app.action(action_id)(ack=_just_ack, lazy=[_lazy(runtime, handler)])


def on_shortcut(app: App, runtime: Runtime, callback_id: str, handler: Lazy) -> None:
    app.shortcut(callback_id)(ack=_just_ack, lazy=[_lazy(runtime, handler)])


def on_event(app: App, runtime: Runtime, event: str, handler: Lazy) -> None:
    app.event(event)(ack=_just_ack, lazy=[_lazy(runtime, handler)])


def _lazy(runtime: Runtime, handler: Lazy) -> Callable[..., None]:
    def lazy(body: JSON, client: WebClient, respond: Respond | None = None) -> None:
        runtime.after_ack.run(handler(body, client), client=client, respond=respond)

    return lazy


def today_of(runtime: Runtime) -> date:
    return runtime.clock().astimezone(runtime.zone).date()


def user_locale(runtime: Runtime, client: WebClient, team: str, user: str) -> str:
    return runtime.locales.resolve(client, runtime.db, team, user)


def shared_locale(runtime: Runtime, team: str, channel: str | None = None) -> str:
    """Messages everyone sees speak their channel's team language, whoever clicked."""
    return runtime.locales.workspace_default(runtime.db, team, channel)


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


def first_action(body: JSON) -> JSON:
    return (body.get("actions") or [{}])[0]


def from_home(body: JSON) -> bool:
    return (body.get("container") or {}).get("type") == "view"


def tell(body: JSON, team: str, user: str, text: str, *, home: bool) -> FollowUp:
    """A private answer: in the conversation the click came from, or at the top of the Home tab."""
    if home or not body.get("response_url"):
        return PublishHome(team, user, notice=f":information_source: {text}")
    return RespondLater(text=f":information_source: {text}", response_type="ephemeral", replace_original=False)


def origin(body: JSON) -> JSON:
    """Where a modal opened from a click goes back to: the Home tab, or the message (and whether it is private)."""
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


def load_choices(runtime: Runtime, workspace_id: str) -> modals.Choices:
    """Open campaigns, active goals and every metric of the workspace, newest first when there are over 100."""
    def newest(rows: list[Any]) -> list[Any]:
        return sorted(sorted(rows, key=lambda r: r.number, reverse=True)[: modals.MAX_OPTIONS], key=lambda r: r.number)

    with runtime.db.session(write=False) as session:
        campaigns = newest(campaign_service.list_campaigns(session, workspace_id=workspace_id))
        goals = newest(goal_service.list_goals(session, workspace_id=workspace_id))
        metrics = newest(kpi_service.list_metrics(session, workspace_id=workspace_id))
        return modals.Choices(
            channels=channel_service.known(session, workspace_id=workspace_id),
            campaigns=[modals.Choice(f"C-{c.number}", f"C-{c.number} {c.name}") for c in campaigns],
            goals=[modals.Choice(f"G-{g.number}", f"G-{g.number} {g.title}") for g in goals],
            metrics=[modals.Choice(m.name, f"{m.name} (K-{m.number})") for m in metrics],
        )


# ---- modal submissions (ack path) -----------------------------------------------------------------

class FieldErrors(Exception):
    """Errors keyed by the input block they belong to; the modal shows each under its field."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = {k: truncate(v, 300) for k, v in errors.items()}


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
            picked = date.fromisoformat(raw)
            if MIN_YEAR <= picked.year <= MAX_YEAR:  # the same bounds as a typed date
                return picked
    except ValueError:
        pass
    raise FieldErrors({block: t("error.form_date", locale, value=str(raw)[:40])})


def user_value(values: JSON, block: BlockId) -> str | None:
    raw = _state(values, block).get("selected_user")
    return raw if isinstance(raw, str) and raw else None


def option_value(values: JSON, block: BlockId) -> str | None:
    option = _state(values, block).get("selected_option")
    return str(option["value"]) if isinstance(option, dict) and option.get("value") else None


def ref_value(value: str | None, kind: str) -> int | None:
    return parse_ref(value, kind) if value else None


def number_value(values: JSON, block: BlockId, errors: dict[str, str], locale: str, *, required: bool) -> Any:
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


def check_refs(session: Session, workspace_id: str, locale: str, refs: dict[BlockId, tuple[type[Any], str, int | None]]) -> None:
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


@dataclass(frozen=True)
class Submission:
    team: str
    user: str
    meta: JSON
    locale: str
    values: JSON
    view: JSON


#: a form's submission on the ack path: acks (with field errors, or none) and returns the follow-ups
Submit = Callable[[Ack, Submission], Sequence[FollowUp]]


def on_submission(app: App, runtime: Runtime, callback_id: CallbackId, submit: Submit) -> None:
    """A form whose private_metadata is not sealed for the submitting workspace is closed and ignored; a sealed
    one is handled on the ack path, and its follow-ups run after the ack."""

    def checked(ack: Ack, body: JSON, view: JSON, context: BoltContext) -> None:
        team = team_of(body)
        unsealed = modals.unseal_metadata(view.get("private_metadata"), team=team, key=runtime.seal_key)
        if unsealed is None:
            log.warning("view %s: private_metadata not sealed for team %s; ignored", view.get("id"), team)
            ack()  # closes the form; nothing is written or updated
            return
        meta = modals.decode_metadata(unsealed)
        values = ((view.get("state") or {}).get("values")) or {}
        followups = submit(ack, Submission(team, user_of(body), meta, str(meta.get(M_LOCALE) or DEFAULT_LOCALE), values, view))
        if followups:
            runtime.background.submit(runtime.after_ack.run, followups, client=context.client)

    app.view(callback_id)(checked)


def field_errors(ack: Ack, errors: dict[str, str]) -> list[FollowUp]:
    ack(response_action="errors", errors=errors)
    return []


def confirmation(sub: Submission, reply: Reply, home_notice: str) -> FollowUp:
    """How the submitter is told: privately in the channel, or on their Home tab."""
    if sub.meta.get(M_ORIGIN) == ORIGIN_HOME or not sub.meta.get(M_CHANNEL):
        return PublishHome(sub.team, sub.user, notice=home_notice)
    return Confirm(sub.user, sub.meta.get(M_CHANNEL), sub.meta.get(M_URL), reply.text, reply.blocks)


def record(
    runtime: Runtime, ack: Ack, sub: Submission, *, error_block: str,
    write: Callable[[Session], tuple[Reply, str, list[str | None]]],
) -> list[FollowUp]:
    """What every record form shares: read and write in one unit of work; a bad value comes back as a field
    error and nothing is written; a good one is acked, then confirmed to the submitter after the ack."""
    try:
        reply, notice, homes = runtime.db.retrying(write)
    except FieldErrors as exc:
        return field_errors(ack, exc.errors)
    except UserError as exc:
        return field_errors(ack, {error_block: exc.text(sub.locale)})
    ack()
    told = confirmation(sub, reply, notice)
    skip = sub.user if isinstance(told, PublishHome) else None
    return [told, RefreshHomes(sub.team, tuple(homes), skip=skip)] if homes else [told]
