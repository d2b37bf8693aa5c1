"""The one executor of what listeners leave for after their ack (commands.followups): Slack Web API calls,
the outbox's delivery of one post, chart uploads, the digest on demand, KPI files sent in Slack (download,
preview, import), exports sent by DM and the admins' API tokens. It runs on the runtime's pool (or in a lazy
listener's thread), never on the ack path; each follow-up's failure is logged and the next one still runs."""

from __future__ import annotations

import logging
import re
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from slack_bolt import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import ActionsBlock
from slack_sdk.webhook import WebhookClient

from bot import exports, uploads
from bot.errors import LocalizedError, NotFound
from bot.i18n import resolve, t
from bot.i18n.fmt import fmt_date
from bot.ids import ActionId, BlockId
from bot.render import home as home_render
from bot.render import modals, views
from bot.render.reply import Builder
from bot.runtime import Runtime
from bot.services import api_tokens, chart_files, outbox, pending_imports
from bot.services import home as home_service
from bot.services import kpis as kpi_service
from bot.services import tasks as task_service
from bot.slack_text import esc
from commands.followups import (
    Confirm,
    DeliverPost,
    FollowUp,
    ManageApiTokens,
    OpenModal,
    PostChart,
    PostDigestNow,
    PreviewImport,
    PublishHome,
    QueuePost,
    RefreshHomes,
    ReplaceOriginal,
    RunImport,
    SendExport,
    UpdateTaskMessage,
    WarmLocale,
)
from commands.followups import (
    Respond as RespondLater,
)

if TYPE_CHECKING:
    from bot.imports import engine
    from bot.imports.reader import BadFile

log = logging.getLogger(__name__)


#: how long a users.info answer on whether someone is an admin is trusted
ADMIN_TTL = 300.0
#: rows per chunk of a KPI file sent in Slack (bot.imports.reader.CHUNK_ROWS)
IMPORT_CHUNK_ROWS = 50_000


class AfterAck:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.import_chunk_rows = IMPORT_CHUNK_ROWS  # rows per chunk of a KPI file sent in Slack
        self._admins: dict[tuple[str, str], tuple[bool, float]] = {}

    def is_admin(self, client: WebClient, team: str, user: str) -> bool:
        """Whether `user` is a workspace admin or owner (users.info), remembered for ADMIN_TTL seconds."""
        known = self._admins.get((team, user))
        if known is not None and known[1] > time.monotonic():
            return known[0]
        info = client.users_info(user=user)["user"] or {}
        admin = bool(info.get("is_admin") or info.get("is_owner") or info.get("is_primary_owner"))
        self._admins[(team, user)] = (admin, time.monotonic() + ADMIN_TTL)
        return admin

    def run(self, followups: Sequence[FollowUp], *, client: WebClient | None, respond: Respond | None = None) -> None:
        for item in followups:
            try:
                self.run_one(item, client, respond)
            except Exception:
                log.exception("follow-up %s failed", type(item).__name__)

    def run_one(self, item: FollowUp, client: WebClient | None, respond: Respond | None) -> None:
        rt = self.runtime
        if isinstance(item, DeliverPost | QueuePost | PostDigestNow):
            if rt.jobs is None:
                return
            if isinstance(item, DeliverPost):
                deliver_one(rt, item.outbox_id)
            elif isinstance(item, QueuePost):
                queue_post(rt, item)
            else:
                post_digest_now(rt, item, respond)
            return
        if isinstance(item, RespondLater):
            respond_later(item, client, respond)
            return
        assert client is not None, f"{type(item).__name__} needs a Slack client"
        if isinstance(item, WarmLocale):
            rt.locales.warm(client, item.workspace_id, item.user_id, db=rt.db)
        elif isinstance(item, OpenModal):
            open_modal(rt, client, item, respond)
        elif isinstance(item, PublishHome):
            publish_home(rt, client, item.workspace_id, item.user_id, locale=item.locale, notice=item.notice)
        elif isinstance(item, RefreshHomes):
            for user in dict.fromkeys(u for u in item.users if u and u != item.skip):
                publish_home(rt, client, item.workspace_id, user)
        elif isinstance(item, Confirm):
            confirm(client, item)
        elif isinstance(item, ReplaceOriginal):
            try:
                WebhookClient(item.url).send(text=item.text, blocks=item.blocks, replace_original=True)
            except Exception:
                log.warning("could not update the original message", exc_info=True)
        elif isinstance(item, UpdateTaskMessage):
            update_task_message(rt, client, item)
        elif isinstance(item, PostChart):
            post_chart(rt, client, item, respond)
        elif isinstance(item, PreviewImport):
            preview_import(rt, client, item, chunk_rows=self.import_chunk_rows)
        elif isinstance(item, RunImport):
            run_import(rt, client, item, chunk_rows=self.import_chunk_rows)
        elif isinstance(item, SendExport):
            send_export(rt, client, item, respond)
        elif isinstance(item, ManageApiTokens):
            manage_api_tokens(rt, client, item, respond, is_admin=self.is_admin)


def respond_later(item: RespondLater, client: WebClient | None, respond: Respond | None) -> None:
    """Through the response_url; if that fails, to the person in the channel, so a "Looking up…" is never the
    last word."""
    fields = {k: v for k, v in vars(item).items() if v is not None and k not in ("channel", "user")}
    error: object = "no response_url"
    if respond is not None:
        try:
            answer = respond(**fields)
            status = getattr(answer, "status_code", 200)
            if status == 200:
                return
            error = f"HTTP {status}"
        except Exception as exc:
            error = exc
    if client is None or not item.channel or not item.user:
        log.error("could not deliver an answer after the ack (%s)", error)
        return
    log.warning("response_url failed (%s); answering with chat.postEphemeral", error)
    client.chat_postEphemeral(channel=item.channel, user=item.user, text=item.text, blocks=item.blocks)


# ---- the delivery path -----------------------------------------------------------------------------

def deliver_one(runtime: Runtime, outbox_id: int) -> None:
    """Exactly this post, now; whatever else is due waits for the delivery job."""
    from jobs.delivery import deliver_due

    deliver_due(runtime.jobs, only=[outbox_id])


def queue_post(runtime: Runtime, item: QueuePost) -> None:
    """Posted once even when Slack's answer is lost (delivery looks for it by its outbox id before posting
    again, now or on a later run)."""
    with runtime.db.session() as session:
        outbox_id = outbox.enqueue(session, workspace_id=item.workspace_id, now=runtime.jobs.clock(), post=item.post)
    if outbox_id is not None:
        deliver_one(runtime, outbox_id)


def post_digest_now(runtime: Runtime, item: PostDigestNow, respond: Respond | None) -> None:
    """`/mkt digest now`: compose and deliver through the outbox. If Slack refuses the post for good (the bot
    is not in the channel, say), the person who asked is told privately."""
    from jobs.now import enqueue_digest_now

    stats = enqueue_digest_now(runtime.jobs, workspace_id=item.workspace_id, channel=item.channel_id, key=item.key)
    if stats is None or not stats.failed or respond is None:
        return
    error = stats.failure_codes[0] if stats.failure_codes else "unknown"
    if error in ("not_in_channel", "channel_not_found"):
        text = t("mkt.digest_not_in_channel", item.locale)
    elif error in outbox.PERMANENT_ERRORS:
        text = t("mkt.digest_refused", item.locale, error=error)
    else:
        text = t("mkt.digest_retrying", item.locale, error=error)
    respond(text=text, response_type="ephemeral", replace_original=False)


def post_chart(runtime: Runtime, client: WebClient, item: PostChart, respond: Respond | None) -> None:
    """`/kpi show`'s chart, rendered off the ack path and shared once (bot.uploads.share_file). The chart is
    in the language of where it is posted: the channel's team language, or the asker's own in a DM (also
    when it goes to the asker by DM because the bot cannot post in the channel). What is told to the asker
    alone (a table when the chart cannot be drawn or uploaded) is in the asker's language."""
    from bot.posts.report import build_chart
    from bot.render import charts
    from bot.services.languages import team_language

    def tell(text: str) -> None:
        if respond is not None:
            respond(text=text, response_type="ephemeral")

    jobs = runtime.jobs
    if jobs is None:
        return
    asker = resolve(item.locale)
    if item.channel_id.startswith("D"):  # the asker's DM with the bot
        locale = asker
    else:
        with runtime.db.session(write=False) as session:
            locale = team_language(session, workspace_id=item.workspace_id, channel=item.channel_id)
    built: dict[str, charts.Chart] = {}

    def chart_in(loc: str) -> charts.Chart:
        if loc not in built:
            built[loc] = build_chart(jobs, item.workspace_id, item.spec, loc)
        return built[loc]

    def numbers(key: str) -> str:
        """The chart's numbers as a table, told to the asker in the asker's language."""
        try:
            table = charts.text_table(chart_in(asker))
        except Exception:
            table = charts.text_table(chart)
        return f"{t(key, item.locale)}\n```{esc(table)}```"

    try:
        chart = chart_in(locale)
    except charts.NoChartData:
        return  # the text summary already says nothing was logged
    try:
        png = charts.render(chart)
    except charts.NoChartData:  # nothing to draw, and no numbers for a table either: say so, privately
        tell(t("chart.no_values", item.locale, title=esc(chart.title)))
        return
    except Exception:
        log.exception("chart for /kpi show %r failed", item.label)
        tell(numbers("chart.fallback.not_drawn"))
        return
    filename = f"{item.spec['name']}.png"
    try:
        file_id = uploads.share_file(
            client, channel=item.channel_id, content=png, filename=filename, title=chart.title,
            initial_comment=item.comment,
        )
        # the Home tab shows the latest chart in its reader's language (a DM fallback below stays private)
        chart_files.remember(item.workspace_id, file_id, chart.title, runtime.clock(), locale=locale)
    except uploads.ShareUnknown:
        tell(t("chart.unconfirmed", item.locale, title=esc(chart.title)))
    except SlackApiError as exc:
        # Not a member of that channel (or a DM with someone else): send it to the person who asked, in
        # that person's language.
        log.info("chart upload to %s failed (%s); sending it by DM", item.channel_id, exc.response.get("error"))
        own = chart
        try:
            if asker != locale:
                own = chart_in(asker)
                png = charts.render(own)
        except Exception:
            log.warning("chart for /kpi show %r could not be redrawn in %s", item.label, item.locale, exc_info=True)
            own = chart
        try:
            dm = client.conversations_open(users=item.user_id)["channel"]["id"]
            uploads.share_file(client, channel=dm, content=png, filename=filename, title=own.title,
                               initial_comment=item.comment)
        except uploads.ShareUnknown:
            tell(t("chart.unconfirmed", item.locale, title=esc(own.title)))
        except Exception:
            tell(numbers("chart.fallback.not_uploaded"))


# ---- Slack calls -----------------------------------------------------------------------------------

def open_modal(runtime: Runtime, client: WebClient, item: OpenModal, respond: Respond | None) -> None:
    """Open the view for the person who clicked, its private_metadata sealed for their workspace."""
    view = {**item.view, "private_metadata": modals.seal_metadata(
        str(item.view.get("private_metadata") or ""), team=item.workspace_id, key=runtime.seal_key)}
    try:
        client.views_open(trigger_id=item.trigger_id, view=view)
    except SlackApiError as exc:
        log.warning("views.open failed: %s %s", exc.response.get("error"), exc.response.get("response_metadata"))
        if item.tell_failure and respond is not None:
            respond(text=t("modal.open_failed", item.locale), response_type="ephemeral", replace_original=False)


_HOME_LOCKS: dict[tuple[str, str], threading.Lock] = {}
_HOME_LOCKS_GUARD = threading.Lock()


def _home_lock(team: str, user: str) -> threading.Lock:
    with _HOME_LOCKS_GUARD:
        return _HOME_LOCKS.setdefault((team, user), threading.Lock())


def publish_home(runtime: Runtime, client: WebClient, team: str, user: str, *, locale: str | None = None,
                 notice: str | None = None) -> None:
    """One person's Home, read and published under that person's lock: two refreshes racing (a command's and a
    click's) publish in the order they read, so an older read never overwrites a newer Home."""
    if not team or not user:
        return
    locale = locale or runtime.locales.resolve(client, runtime.db, team, user)
    today = runtime.clock().astimezone(runtime.zone).date()
    with _home_lock(team, user):
        with runtime.db.session(write=False) as session:
            data = home_service.home_data(session, workspace_id=team, user_id=user, today=today, locale=locale)
        view = home_render.home_view(data, locale=locale, notice=notice)
        try:
            client.views_publish(user_id=user, view=view)
        except SlackApiError as exc:
            log.warning("views.publish for %s failed: %s", user, exc.response.get("error"))


def confirm(client: WebClient, item: Confirm) -> None:
    """Privately in the channel the flow started in; through the response_url, or by DM, when the bot is not there."""
    text, blocks = item.text or "", item.blocks or None
    if item.channel:
        try:
            client.chat_postEphemeral(channel=item.channel, user=item.user_id, text=text, blocks=blocks)
            return
        except SlackApiError as exc:
            log.info("chat.postEphemeral in %s failed (%s); trying the next way", item.channel, exc.response.get("error"))
    if item.url:
        try:
            response = WebhookClient(item.url).send(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)
            if response.status_code == 200:
                return
        except Exception:
            log.info("response_url failed", exc_info=True)
    try:
        client.chat_postMessage(channel=item.user_id, text=text, blocks=blocks)
    except SlackApiError as exc:
        log.warning("could not confirm to %s: %s", item.user_id, exc.response.get("error"))


def update_task_message(runtime: Runtime, client: WebClient, item: UpdateTaskMessage) -> None:
    """A task card in a shared message (a digest, a reminder) after a modal changed the task: chat.update in place."""
    if not item.channel or not item.ts:
        return
    try:
        history = client.conversations_history(channel=item.channel, latest=item.ts, oldest=item.ts, inclusive=True, limit=1)
    except SlackApiError as exc:
        log.info("could not read the message to update: %s", exc.response.get("error"))
        return
    found: list[dict[str, Any]] = [m for m in history.get("messages") or [] if m.get("ts") == item.ts]
    if not found:
        return
    message = found[0]
    # redrawn in the language the message was written in; a message that does not say speaks its channel's
    locale = (views.written_locale(message.get("blocks"))
              or runtime.locales.workspace_default(runtime.db, item.workspace_id, item.channel))
    today = runtime.clock().astimezone(runtime.zone).date()
    with runtime.db.session(write=False) as session:
        try:
            task = task_service.get_task(session, workspace_id=item.workspace_id, number=item.number)
        except NotFound:
            return
        shown = task_service.Change(task, item.changed, "").shown()
        note = views.task_change_message(shown, actor=item.actor, today=today, locale=locale)[0]
        blocks = views.update_task_blocks(message.get("blocks") or [], shown.task, note=note, today=today, locale=locale)
    try:
        client.chat_update(channel=item.channel, ts=item.ts, text=message.get("text") or note, blocks=blocks)
    except SlackApiError as exc:
        log.warning("chat.update failed: %s", exc.response.get("error"))


# ---- KPI files sent in Slack -----------------------------------------------------------------------

#: the largest KPI file taken from Slack
MAX_FILE_BYTES = 200 * 1024 * 1024
#: the preview message is updated every this many chunks read or written (and once at the end): a chunk
#: takes about a second, and chat.update allows about 50 calls a minute
PROGRESS_EVERY = 2
IMPORTABLE = (".csv", ".xlsx", ".xlsm")


class DownloadFailed(LocalizedError):
    """The file could not be read from Slack: the person is told why; nothing is written."""


def _safe_name(name: str) -> str:
    return re.sub(r"[\\/\x00-\x1f]", "_", name).strip(". ") or "file"


def file_info(client: WebClient, file_id: str) -> dict[str, Any]:
    try:
        return dict(client.files_info(file=file_id)["file"] or {})
    except SlackApiError as exc:
        raise DownloadFailed.of("import.download_failed", error=str(exc.response.get("error"))) from exc


def is_table(info: dict[str, Any]) -> bool:
    return str(info.get("name") or "").lower().endswith(IMPORTABLE)


def download_file(client: WebClient, info: dict[str, Any], folder: Path) -> Path:
    """`url_private_download` of a files.info file, with the bot token (a request without it gets Slack's
    sign-in page, not the file). The file keeps its name, whose extension tells the reader CSV from XLSX."""
    name = _safe_name(str(info.get("name") or info.get("id") or "file"))
    if not is_table(info):
        raise DownloadFailed.of("import.not_a_table", name=name)
    limit = f"{MAX_FILE_BYTES // (1024 * 1024)} MB"
    if int(info.get("size") or 0) > MAX_FILE_BYTES:
        raise DownloadFailed.of("import.too_big", name=name, limit=limit)
    url = str(info.get("url_private_download") or info.get("url_private") or "")
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {client.token}"})
    local = url.startswith(("http://127.0.0.1", "http://localhost"))
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({} if local else None))
    path = folder / name
    try:
        with opener.open(request, timeout=max(30, client.timeout)) as answer:
            if "text/html" in (answer.headers.get("Content-Type") or ""):
                raise DownloadFailed.of("import.download_failed", error="Slack sent its sign-in page (files:read?)")
            with path.open("wb") as out:
                read = 0
                while chunk := answer.read(1 << 20):
                    read += len(chunk)
                    if read > MAX_FILE_BYTES:
                        raise DownloadFailed.of("import.too_big", name=name, limit=limit)
                    out.write(chunk)
    except OSError as exc:
        raise DownloadFailed.of("import.download_failed", error=str(exc)) from exc
    return path


def _bad_file_text(exc: BadFile, locale: str) -> str:
    from bot.imports.reader import in_locale
    where = []
    if exc.row is not None:
        where.append(t("import.row", locale, row=exc.row))
    if exc.column is not None:
        where.append(t("import.column", locale, column=esc(exc.column)))
    if not where:
        return t("import.bad_file", locale, reason=esc(in_locale(exc.reason, locale)))
    return t("import.bad_file_at", locale, where=t("list.separator", locale).join(where),
             reason=esc(in_locale(exc.reason, locale)))


def _failure_text(exc: Exception, locale: str, bad_file: type[Exception], what: str) -> str:
    """Why a file was not previewed or imported: the engine's reason (row and column) for a bad file, the
    message of a known error, else an error id to find in the log."""
    if isinstance(exc, bad_file):
        return _bad_file_text(exc, locale)  # type: ignore[arg-type]
    if isinstance(exc, LocalizedError):
        return exc.text(locale)
    error_id = uuid.uuid4().hex[:8]
    log.exception("%s failed (error id %s)", what, error_id)
    return t("import.failed", locale, error_id=error_id)


def _fmt_value(value: Any) -> str:
    return f"{value.normalize():f}" if hasattr(value, "normalize") else str(value)


def preview_blocks(p: engine.Preview, *, pending_id: int, locale: str, today: date) -> tuple[str, list[dict[str, Any]]]:
    """The preview message: what the file holds and what importing it would change, with Import and Cancel."""
    days = (t("import.days", locale, first=fmt_date(p.first_day, today, locale), last=fmt_date(p.last_day, today, locale),
              n=(p.last_day - p.first_day).days + 1) if p.first_day and p.last_day else t("import.no_days", locale))
    none = t("import.none", locale)
    channels = t("list.separator", locale).join(esc(c) if c else t("import.no_channel", locale) for c in p.channels)
    metrics = t("list.separator", locale).join(t("import.metric", locale,
        name=esc(m.name) + (" [" + esc(m.unit) + "]" if m.unit else "") + (t("import.metric_new", locale) if m.new else ""),
        header=t("import.metric_header", locale, header=esc(m.header)) if m.header and m.header != m.name else "",
        values=f"{m.values:,}") for m in p.metrics)
    lines = [
        t("import.rows", locale, read=f"{p.rows_read:,}", skipped=f"{p.skipped_rows:,}"),
        days,
        t("import.channels", locale, channels=channels or none),
        t("import.metrics", locale, metrics=metrics or none),
        t("import.values", locale, values=f"{p.values:,}", new=f"{p.new_values:,}", replaced=f"{p.replaced:,}",
          unchanged=f"{p.unchanged:,}"),
    ]
    detail = [t("import.replaces", locale, metric=esc(r.metric), channel=esc(r.channel) or t("import.no_channel", locale),
                day=fmt_date(r.day, today, locale), old=_fmt_value(r.old), new=_fmt_value(r.new)) for r in p.replacements[:10]]
    if p.replaced > len(detail):
        detail.append(t("import.more_replaced", locale, n=f"{p.replaced - len(detail):,}"))
    from bot.imports.reader import in_locale

    skipped = [t("import.skipped_row", locale, row=s.row, reason=esc(in_locale(s.reason, locale))) for s in p.skipped[:10]]
    if p.skipped_rows > len(skipped):
        skipped.append(t("import.more_skipped", locale, n=f"{p.skipped_rows - len(skipped):,}"))
    b = Builder().section(":bar_chart: " + t("import.preview_head", locale, file=esc(p.file),
                                                           preset=t(f"import.preset.{p.preset_name}", locale)))
    b.section("\n".join(lines))
    if detail:
        b.section("\n".join(detail))
    if skipped:
        b.section("\n".join(skipped))
    if p.notes:
        b.context("\n".join(esc(in_locale(n, locale)) for n in p.notes[:5]))
    changes = p.new_values + p.replaced
    if changes:
        b.add(ActionsBlock(block_id=BlockId.IMPORT_ACTIONS, elements=[
            views.button(t("import.button_run", locale), ActionId.KPI_IMPORT_RUN, str(pending_id), style="primary"),
            views.button(t("import.button_cancel", locale), ActionId.KPI_IMPORT_CANCEL, str(pending_id)),
        ]))
    else:
        b.context(t("import.nothing_to_change", locale, n=f"{p.unchanged:,}"))
    reply = b.build(text=t("import.preview_plain", locale, file=p.file, values=f"{p.values:,}"))
    return reply.text, reply.blocks


def _progress_text(stage: str, done: int, total: int, locale: str) -> str:
    share = f"{min(100, round(100 * done / total)) if total else 100} %"
    return f":hourglass_flowing_sand: {t(stage, locale, share=share)}"


class _Progress:
    """chat.update of one message every PROGRESS_EVERY chunks: a big file shows how far it got."""

    def __init__(self, client: WebClient, channel: str, ts: str, stage: str, locale: str, head: str) -> None:
        self.client, self.channel, self.ts, self.stage, self.locale, self.head = client, channel, ts, stage, locale, head
        self.calls = 0

    def __call__(self, done: int, total: int) -> None:
        self.calls += 1
        if self.calls % PROGRESS_EVERY and done < total:
            return
        text = f"{self.head}\n{_progress_text(self.stage, done, total, self.locale)}"
        try:
            self.client.chat_update(channel=self.channel, ts=self.ts, text=text,
                                    blocks=Builder().section(text).build().blocks)
        except SlackApiError as exc:
            log.info("progress update failed: %s", exc.response.get("error"))


def _update(client: WebClient, channel: str, ts: str, text: str, blocks: list[dict[str, Any]] | None = None) -> None:
    client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks or Builder().section(text).build().blocks)


def preview_import(runtime: Runtime, client: WebClient, item: PreviewImport, *, chunk_rows: int) -> None:
    """Claim the file's preview (a second event for the same file stops here), DM a "checking" message, read
    the whole file and replace that message with the preview, or with why the file cannot be imported."""
    from bot.imports import engine  # pandas: loaded with the first file, not at start-up
    from bot.imports.reader import BadFile

    try:
        info = file_info(client, item.file_id)
    except DownloadFailed:
        log.warning("files.info for %s failed", item.file_id, exc_info=True)
        return
    if not is_table(info):
        return  # an image or a PDF sent to the bot: not a KPI file, nothing to say (the form takes tables only)
    locale = item.locale or runtime.locales.resolve(client, runtime.db, item.workspace_id, item.user_id)
    now = runtime.clock()
    row = pending_imports.claimed_start(runtime.db, workspace_id=item.workspace_id, user_id=item.user_id,
                                        file_id=item.file_id, filename=str(info.get("name") or item.file_id),
                                        preset=item.preset, now=now)
    if row is None:
        log.info("file %s is already being previewed or waits for its click", item.file_id)
        return
    dm = client.conversations_open(users=item.user_id)["channel"]["id"]
    head = ":page_facing_up: " + t("import.checking", locale)
    ts = str(client.chat_postMessage(channel=dm, text=head, blocks=Builder().section(head).build().blocks)["ts"])
    with runtime.db.session() as session:
        pending_imports.set_message(session, pending_id=row.id, channel=dm, ts=ts)
    today = now.astimezone(runtime.zone).date()
    with tempfile.TemporaryDirectory(prefix="mktbot-import-") as folder:
        try:
            path = download_file(client, info, Path(folder))
            preview = engine.preview(
                runtime.db, workspace_id=item.workspace_id, path=path,
                options=engine.Options(preset=item.preset, chunk_rows=chunk_rows),
                progress=_Progress(client, dm, ts, "import.checked", locale, head),
            )
        except Exception as exc:
            reason = _failure_text(exc, locale, BadFile, f"preview of {item.file_id}")
            with runtime.db.session() as session:
                pending_imports.finish(session, pending_id=row.id, status="failed", summary=reason, now=runtime.clock())
            _update(client, dm, ts, f":warning: {reason}\n{t('import.nothing_written', locale)}")
            return
    text, blocks = preview_blocks(preview, pending_id=row.id, locale=locale, today=today)
    changes = preview.new_values + preview.replaced
    with runtime.db.session() as session:
        pending_imports.finish(session, pending_id=row.id, status="pending" if changes else "done",
                               summary=preview.render(), now=runtime.clock(), filename=preview.file)
    _update(client, dm, ts, text, blocks)


def run_import(runtime: Runtime, client: WebClient, item: RunImport, *, chunk_rows: int) -> None:
    """Import a previewed file (claimed by this click): progress, then the result, in the preview message."""
    from bot.imports import engine
    from bot.imports.reader import BadFile

    locale = item.locale
    with runtime.db.session(write=False) as session:
        row = pending_imports.get(session, workspace_id=item.workspace_id, pending_id=item.pending_id)
    if row is None or not row.channel or not row.message_ts:
        return
    channel, ts = row.channel, row.message_ts
    head = ":inbox_tray: " + t("import.importing", locale, file=esc(row.filename))
    _update(client, channel, ts, head)
    with tempfile.TemporaryDirectory(prefix="mktbot-import-") as folder:
        try:
            path = download_file(client, file_info(client, row.file_id), Path(folder))
            result = engine.run_import(
                runtime.db, workspace_id=item.workspace_id, path=path, user_id=item.user_id,
                options=engine.Options(preset=row.preset, chunk_rows=chunk_rows),
                checked=_Progress(client, channel, ts, "import.checked", locale, head),
                written=_Progress(client, channel, ts, "import.written", locale, head),
            )
        except Exception as exc:
            # A bad file is refused before anything is written; a failure while writing leaves the chunks
            # already written (one transaction each): sending the file again finishes the import.
            reason = _failure_text(exc, locale, BadFile, f"import of {row.file_id}")
            after = "import.nothing_written" if isinstance(exc, BadFile | LocalizedError) else "import.send_again"
            with runtime.db.session() as session:
                pending_imports.finish(session, pending_id=row.id, status="failed", summary=reason, now=runtime.clock())
            _update(client, channel, ts, f":warning: {reason}\n{t(after, locale)}")
            return
    if result.changed:
        text = ":white_check_mark: " + t("import.done", locale, file=esc(row.filename),
                                         n=f"{result.inserted + result.replaced:,}", new=f"{result.inserted:,}",
                                         replaced=f"{result.replaced:,}", unchanged=f"{result.unchanged:,}")
        if result.metrics_created:
            text += "\n" + t("import.metrics_created", locale, metrics=t("list.separator", locale).join(
                esc(m) for m in result.metrics_created))
    else:
        text = ":information_source: " + t("import.unchanged", locale, file=esc(row.filename), n=f"{result.unchanged:,}")
    with runtime.db.session() as session:
        pending_imports.finish(session, pending_id=row.id, status="done", summary=result.render(), now=runtime.clock())
    _update(client, channel, ts, text)


# ---- exports by DM ---------------------------------------------------------------------------------

def build_export(runtime: Runtime, item: SendExport) -> tuple[exports.Sheet, str]:
    """The table asked for, read fresh, and the file's name."""
    today = runtime.clock().astimezone(runtime.zone).date()
    spec = item.spec
    with runtime.db.session(write=False) as session:
        if item.kind == "kpi":
            metrics = kpi_service.list_metrics(session, workspace_id=item.workspace_id)
            wanted = spec.get("metric_ids") or [m.id for m in metrics if not m.is_ratio]
            by_id = {m.id: m for m in metrics}
            start, end = date.fromisoformat(spec["start"]), date.fromisoformat(spec["end"])
            sheet = exports.kpi_sheet(session, metrics=[by_id[i] for i in wanted if i in by_id], start=start, end=end,
                                      by_channel=bool(spec.get("by_channel")), channel=spec.get("channel"))
            name = f"kpis-{start.isoformat()}-{end.isoformat()}"
        elif item.kind == "goal":
            sheet = exports.goal_sheet(session, workspace_id=item.workspace_id,
                                       include_closed=bool(spec.get("include_closed")), today=today)
            name = f"goals-{today.isoformat()}"
        else:
            filters = task_service.TaskFilter(**spec)
            sheet = exports.task_sheet(session, workspace_id=item.workspace_id, filters=filters, today=today)
            name = f"tasks-{today.isoformat()}"
    return sheet, f"{name}.{item.fmt}"


def send_export(runtime: Runtime, client: WebClient, item: SendExport, respond: Respond | None) -> None:
    """The file, by DM to the person who asked (conversations.open, then one share); nothing to export is said
    privately instead."""
    def tell(text: str) -> None:
        if respond is not None:
            respond(text=text, response_type="ephemeral", replace_original=False)

    sheet, filename = build_export(runtime, item)
    if not sheet.rows:
        tell(":information_source: " + t("export.empty", item.locale))
        return
    content = exports.render(sheet, item.fmt)
    try:
        dm = client.conversations_open(users=item.user_id)["channel"]["id"]
        uploads.share_file(client, channel=dm, content=content, filename=filename, title=filename,
                           initial_comment=t("export.comment", item.locale, rows=f"{len(sheet.rows):,}"))
    except uploads.ShareUnknown:
        tell(t("export.unconfirmed", item.locale, file=filename))
    except SlackApiError as exc:
        log.warning("export %s could not be sent: %s", filename, exc.response.get("error"))
        tell(":warning: " + t("export.failed", item.locale, error=str(exc.response.get("error"))))


# ---- API tokens ------------------------------------------------------------------------------------

def manage_api_tokens(runtime: Runtime, client: WebClient, item: ManageApiTokens, respond: Respond | None,
                      *, is_admin: Any) -> None:
    """An admin's `/mkt api-token …`, answered privately; anyone else is refused, and nothing is written."""
    loc = item.locale
    if respond is None:
        return

    def say(text: str) -> None:
        respond(text=text, response_type="ephemeral", replace_original=False)

    try:
        admin = is_admin(client, item.workspace_id, item.user_id)
    except SlackApiError as exc:
        say(":warning: " + t("api_token.cannot_check", loc, error=str(exc.response.get("error"))))
        return
    if not admin:
        say(":no_entry: " + t("api_token.admins_only", loc))
        return
    try:
        if item.verb == "new":
            with runtime.db.session() as session:
                info, secret = api_tokens.create_token(session, workspace_id=item.workspace_id,
                                                       name=item.argument or "api", user_id=item.user_id)
            say(":key: " + t("api_token.created", loc, id=info.id, name=esc(info.name), secret=secret))
        elif item.verb == "list":
            with runtime.db.session(write=False) as session:
                tokens = api_tokens.list_tokens(session, workspace_id=item.workspace_id)
            if not tokens:
                say(t("api_token.none", loc))
                return
            today = runtime.clock().astimezone(runtime.zone).date()

            def when(moment: Any) -> str:
                if moment is None:
                    return t("api_token.never", loc)
                local = moment.astimezone(runtime.zone)
                return f"{fmt_date(local.date(), today, loc)} {local:%H:%M}"

            lines = [t("api_token.line", loc, id=k.id, name=esc(k.name), prefix=k.prefix,
                       by=f"<@{k.created_by}>" if k.created_by else "—", created=when(k.created_at),
                       used=when(k.last_used_at),
                       state=t("api_token.active", loc) if k.active else t("api_token.revoked_on", loc,
                                                                             when=when(k.revoked_at)))
                     for k in tokens]
            say(t("api_token.list_head", loc, n=len(tokens)) + "\n" + "\n".join(lines))
        else:
            with runtime.db.session() as session:
                info = api_tokens.revoke_token(session, workspace_id=item.workspace_id, token_id=int(item.argument))
            say(":wastebasket: " + t("api_token.revoked", loc, id=info.id, name=esc(info.name)))
    except LocalizedError as exc:
        say(":warning: " + exc.text(loc))
