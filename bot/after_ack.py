"""The one executor of what listeners leave for after their ack (commands.followups): Slack Web API calls,
the outbox's delivery of one post, chart uploads and the digest on demand. It runs on the runtime's pool
(or in a lazy listener's thread), never on the ack path; each follow-up's failure is logged and the next
one still runs."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from slack_bolt import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from bot import uploads
from bot.errors import NotFound
from bot.i18n import t
from bot.render import home as home_render
from bot.render import modals, views
from bot.render.text import esc
from bot.runtime import Runtime
from bot.services import chart_files, outbox
from bot.services import home as home_service
from bot.services import tasks as task_service
from commands.followups import (
    Confirm,
    DeliverPost,
    FollowUp,
    OpenModal,
    PostChart,
    PostDigestNow,
    PublishHome,
    QueuePost,
    RefreshHomes,
    ReplaceOriginal,
    UpdateTaskMessage,
    WarmLocale,
)
from commands.followups import (
    Respond as RespondLater,
)

log = logging.getLogger(__name__)


class AfterAck:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

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
            rt.locales.warm(client, item.workspace_id, item.user_id)
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
    """`/kpi show`'s chart, rendered off the ack path and shared once (bot.uploads.share_file)."""
    from bot.posts.report import build_chart
    from bot.render import charts

    def tell(text: str) -> None:
        if respond is not None:
            respond(text=text, response_type="ephemeral")

    if runtime.jobs is None:
        return
    try:
        chart = build_chart(runtime.jobs, item.workspace_id, item.spec)
    except charts.NoChartData:
        return  # the text summary already says nothing was logged
    try:
        png = charts.render(chart)
    except charts.NoChartData:  # nothing to draw, and no numbers for a table either: say so, privately
        tell(t("chart.no_values", item.locale, title=esc(chart.title)))
        return
    except Exception:
        log.exception("chart for /kpi show %r failed", item.label)
        tell(f"The chart could not be drawn; here are its numbers:\n```{charts.text_table(chart)}```")
        return
    filename = f"{item.spec['name']}.png"
    try:
        file_id = uploads.share_file(
            client, channel=item.channel_id, content=png, filename=filename, title=chart.title,
            initial_comment=item.comment,
        )
        # the Home tab shows the latest chart (a DM fallback below stays private to the asker)
        chart_files.remember(item.workspace_id, file_id, chart.title, runtime.clock())
    except uploads.ShareUnknown:
        tell(t("chart.unconfirmed", item.locale, title=esc(chart.title)))
    except SlackApiError as exc:
        # Not a member of that channel (or a DM with someone else): send it to the person who asked.
        log.info("chart upload to %s failed (%s); sending it by DM", item.channel_id, exc.response.get("error"))
        try:
            dm = client.conversations_open(users=item.user_id)["channel"]["id"]
            uploads.share_file(client, channel=dm, content=png, filename=filename, title=chart.title,
                               initial_comment=item.comment)
        except uploads.ShareUnknown:
            tell(t("chart.unconfirmed", item.locale, title=esc(chart.title)))
        except Exception:
            tell(f"The chart could not be uploaded; here are its numbers:\n```{charts.text_table(chart)}```")


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


def publish_home(runtime: Runtime, client: WebClient, team: str, user: str, *, locale: str | None = None,
                 notice: str | None = None) -> None:
    if not team or not user:
        return
    locale = locale or runtime.locales.resolve(client, runtime.db, team, user)
    today = runtime.clock().astimezone(runtime.zone).date()
    with runtime.db.session(write=False) as session:
        data = home_service.home_data(session, workspace_id=team, user_id=user, today=today)
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
    # redrawn in the language the message was written in; a message that does not say speaks the workspace's
    locale = views.written_locale(message.get("blocks")) or runtime.locales.workspace_default(runtime.db, item.workspace_id)
    today = runtime.clock().astimezone(runtime.zone).date()
    with runtime.db.session(write=False) as session:
        try:
            task = task_service.get_task(session, workspace_id=item.workspace_id, number=item.number)
        except NotFound:
            return
        change = task_service.Change(task, item.changed, "")
        note = views.task_change_message(change, actor=item.actor, today=today, locale=locale)[0]
        blocks = views.update_task_blocks(message.get("blocks") or [], task, note=note, today=today, locale=locale)
    try:
        client.chat_update(channel=item.channel, ts=item.ts, text=message.get("text") or note, blocks=blocks)
    except SlackApiError as exc:
        log.warning("chat.update failed: %s", exc.response.get("error"))
