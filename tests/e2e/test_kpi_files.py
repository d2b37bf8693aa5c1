"""KPI files in Slack, end to end over signed HTTP: `/kpi import`'s form and a file shared in a DM lead to a
preview by DM with Import and Cancel; only Import writes, once; a bad file is refused with its row and
column; a preview outlives a restart of the bot."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from typing import Any

from bot.app import build_app
from bot.ids import ActionId, BlockId
from bot.localslack import Message
from bot.server import BackgroundServer
from bot.settings import Settings
from tests.support.harness import ANA, BO, GENERAL, LILEI, Bot, fill, wait_until

GOOD_CSV = (
    "日期,渠道,访客数,支付金额\n"
    "2026-11-20,天猫,1000,\"¥12,500\"\n"
    "2026-11-21,天猫,1200,13000\n"
    "2026-11-21,京东,800,9000\n"
    "合计,,3000,34500\n"
).encode("utf-8-sig")

BAD_CSV = (
    "日期,渠道,访客数\n"
    "2026-11-20,天猫,1000\n"
    "2026-11-21,天猫,很多\n"
).encode()


def dm_of(bot: Bot, user: str) -> str:
    return bot.slack.im_channel(user)


def bot_messages(bot: Bot, user: str) -> list[Message]:
    dm = dm_of(bot, user)
    return [m for m in bot.slack.messages if m.channel == dm and m.is_bot and not m.deleted and not m.is_ephemeral]


def dm_message(bot: Bot, user: str, *, containing: str, timeout: float = 10.0) -> Message:
    """The bot's message in `user`'s DM once its current text shows `containing` (chat.update included), as
    the person saw it then (a copy: a later chat.update does not take its buttons away)."""
    found = wait_until(lambda: next((m for m in bot_messages(bot, user) if containing in m.all_text()), None),
                       timeout=timeout, what=f"a DM to {user} showing {containing!r}")
    with bot.slack._lock:
        return copy.deepcopy(found)


def values_stored(bot: Bot) -> int:
    return bot.count("kpi_values")


def has_buttons(message: Message) -> bool:
    return any(b.get("block_id") == BlockId.IMPORT_ACTIONS for b in message.blocks or [])


def submit_file(bot: Bot, user: str, filename: str, content: bytes, preset: str = "auto") -> dict[str, Any]:
    said = bot.say(user, "/kpi import")
    assert said.status == 200 and not said.late and not said.strip(), said
    view = bot.opened_modal(user)
    element = next(b for b in view["blocks"] if b.get("block_id") == BlockId.FILE)["element"]
    assert element["type"] == "file_input" and element["filetypes"] == ["csv", "xlsx"] and element["max_files"] == 1
    uploaded = bot.slack.upload_user_file(user, filename, content)
    result = bot.submit(view, user, {**fill(file=[uploaded.id]), **fill(preset=preset)})
    return result.body if isinstance(result.body, dict) else {}


def test_the_form_previews_a_file_and_only_import_writes_it_once(bot: Bot) -> None:
    assert submit_file(bot, ANA, "sycm-2026-11.csv", GOOD_CSV).get("response_action") is None
    preview = dm_message(bot, ANA, containing="Import")
    text = preview.all_text()
    assert "sycm-2026-11.csv" in text and "Rows read:* 4" in text and "skipped:* 1" in text, text
    assert "天猫" in text and "京东" in text and "visits" in text and "gmv" in text, text
    assert "6 new" in text, text
    assert "合计" in text or "total" in text.lower(), text  # the totals row is skipped, and said so
    assert values_stored(bot) == 0  # a preview writes nothing
    # the file was read from Slack as a bot reads one: files.info, then the private URL with the bot token
    assert [c["file"] for c in bot.slack.get_calls("files.info")]

    bot.click(preview, ActionId.KPI_IMPORT_RUN, ANA)
    done = dm_message(bot, ANA, containing="Imported")
    assert "6 values" in done.all_text() and not has_buttons(done), done.all_text()
    assert values_stored(bot) == 6
    rows = bot.rows("SELECT m.name, v.channel, v.day, v.value FROM kpi_values v JOIN metrics m ON m.id = v.metric_id "
                    "WHERE v.workspace_id = :team AND m.name = 'gmv' ORDER BY v.day, v.channel")
    assert [(r[1], str(r[2])) for r in rows] == [("天猫", "2026-11-20"), ("京东", "2026-11-21"), ("天猫", "2026-11-21")]

    # the same button clicked again (a double click, or the old message): told, nothing imported twice
    bot.click(preview, ActionId.KPI_IMPORT_RUN, ANA)
    again = bot.ephemeral_to(ANA, containing="already been imported")
    assert again is not None
    assert values_stored(bot) == 6
    status = bot.rows("SELECT status FROM pending_imports WHERE workspace_id = :team")
    assert status == [("done",)]


def test_a_double_click_imports_once(any_db_bot: Bot) -> None:
    bot = any_db_bot
    submit_file(bot, ANA, "kpis.csv", GOOD_CSV)
    preview = dm_message(bot, ANA, containing="Import")
    bot.click(preview, ActionId.KPI_IMPORT_RUN, ANA)
    bot.click(preview, ActionId.KPI_IMPORT_RUN, ANA)
    dm_message(bot, ANA, containing="Imported")
    wait_until(lambda: bot.slack.ephemeral_messages(ANA), what="the second click's answer")
    told = " ".join(m.all_text() for m in bot.slack.ephemeral_messages(ANA))
    assert "being imported" in told or "already been imported" in told, told
    assert values_stored(bot) == 6
    runs = [c for c in bot.slack.get_calls("files.info")]
    assert len(runs) == 2, runs  # one download for the preview, one for the single import


def test_a_bad_file_names_its_row_and_column_and_writes_nothing(bot: Bot) -> None:
    submit_file(bot, ANA, "bad.csv", BAD_CSV)
    refused = dm_message(bot, ANA, containing="cannot be imported")
    text = refused.all_text()
    assert "row 3" in text and "访客数" in text and "Nothing was written" in text, text
    assert not has_buttons(refused)
    assert values_stored(bot) == 0
    assert bot.count("metrics") == 0


def test_the_form_refuses_a_file_that_is_not_a_table(bot: Bot) -> None:
    said = bot.say(ANA, "/kpi import")
    assert said.status == 200
    view = bot.opened_modal(ANA)
    pdf = bot.slack.upload_user_file(ANA, "report.pdf", b"%PDF-1.4")
    # Slack's client only offers the element's filetypes: send the state as a forged client would
    state = {"files": [bot.slack.file_json(pdf.id)]}
    result = bot.submit(view, ANA, fill(file=state))
    assert result.body["response_action"] == "errors" and BlockId.FILE in result.body["errors"], result.body
    assert not bot_messages(bot, ANA)


def test_a_file_shared_in_a_dm_is_previewed_once_and_cancel_writes_nothing(bot: Bot) -> None:
    bot.slack.share_file_in_dm(LILEI, "京东商智.csv", GOOD_CSV)
    preview = dm_message(bot, LILEI, containing="导入")  # 李雷 reads Chinese
    text = preview.all_text()
    assert "读取行数" in text and "取消" in text, text
    # a `message` (file_share) and a `file_shared` event for the one file: one preview
    wait_until(lambda: bot.rows("SELECT count(*) FROM pending_imports WHERE workspace_id = :team")[0][0] == 1)
    assert len([m for m in bot_messages(bot, LILEI) if has_buttons(m)]) == 1
    assert len(bot.slack.get_calls("chat.postMessage")) == 1

    bot.click(preview, ActionId.KPI_IMPORT_CANCEL, LILEI)
    dm_message(bot, LILEI, containing="已取消")
    bot.click(preview, ActionId.KPI_IMPORT_RUN, LILEI)
    bot.ephemeral_to(LILEI, containing="已取消")
    assert values_stored(bot) == 0


def test_a_file_in_a_dm_is_downloaded_with_the_bot_token(bot: Bot) -> None:
    """The private URL without the token is Slack's sign-in page, as in Slack; the bot's download has it."""
    message = bot.slack.share_file_in_dm(ANA, "kpis.csv", GOOD_CSV)
    url = message.files[0]["url_private_download"]
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=5) as answer:
        assert "text/html" in answer.headers["Content-Type"]
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {bot.slack.bot_token}"})
    with opener.open(request, timeout=5) as answer:
        assert answer.read() == GOOD_CSV
    dm_message(bot, ANA, containing="Import")


def test_a_large_file_shows_progress_in_its_message(bot: Bot) -> None:
    bot.app.runtime.after_ack.import_chunk_rows = 10
    days = [(bot.clock().date() - timedelta(days=d)).isoformat() for d in range(1, 61)]
    content = ("Date,Sessions\n" + "".join(f"{d},{100 + i}\n" for i, d in enumerate(days))).encode()
    bot.slack.share_file_in_dm(ANA, "ga4.csv", content)
    preview = dm_message(bot, ANA, containing="Import")
    bot.click(preview, ActionId.KPI_IMPORT_RUN, ANA)
    dm_message(bot, ANA, containing="Imported")
    updates = [json.dumps(c.get("text"), ensure_ascii=False) for c in bot.slack.get_calls("chat.update")]
    checked = [u for u in updates if "checked" in u]
    written = [u for u in updates if "written" in u]
    assert len(checked) >= 3 and len(written) >= 3, updates
    assert values_stored(bot) == 60


def test_a_preview_outlives_a_restart_and_expires_after_a_day(bot: Bot) -> None:
    submit_file(bot, ANA, "kpis.csv", GOOD_CSV)
    preview = dm_message(bot, ANA, containing="Import")
    # the bot restarts between the preview and the click: a new process on the same database
    bot.server.stop()
    settings = Settings(api_url=bot.slack.api_url, bot_token=bot.slack.bot_token, signing_secret=bot.slack.signing_secret,
                        database_url=bot.db.engine.url.render_as_string(hide_password=False), timezone="Asia/Shanghai",
                        listener_threads=4)
    app = build_app(settings, db=bot.db, clock=bot.clock)
    server = BackgroundServer(app, port=0, threads=8)
    server.server.adj.asyncore_loop_timeout = 0.05
    server.start()
    bot.slack.bot_url = server.url
    try:
        bot.click(preview, ActionId.KPI_IMPORT_RUN, ANA)
        dm_message(bot, ANA, containing="Imported")
        assert values_stored(bot) == 6

        bot.slack.share_file_in_dm(BO, "later.csv", GOOD_CSV.replace(b"1000", b"1001"))
        late = dm_message(bot, BO, containing="Import")
        bot.clock.set(bot.clock() + timedelta(hours=25))
        bot.click(late, ActionId.KPI_IMPORT_RUN, BO)
        bot.ephemeral_to(BO, containing="expired")
        assert values_stored(bot) == 6
    finally:
        executor = getattr(getattr(app, "listener_runner", None), "listener_executor", None)
        if executor is not None:
            executor.shutdown(wait=True)
        app.runtime.background.shutdown(wait=True)
        server.stop()


def test_other_files_in_a_dm_and_in_channels_are_left_alone(bot: Bot) -> None:
    bot.slack.share_file_in_dm(ANA, "photo.png", b"\x89PNG")
    bot.slack.post_user_message(GENERAL, ANA, "hello")
    assert bot.say(ANA, "/kpi list").status == 200
    assert not bot_messages(bot, ANA)
    assert bot.rows("SELECT count(*) FROM pending_imports WHERE workspace_id = :team") == [(0,)]


def test_every_web_api_call_of_the_file_flows_conforms_to_slacks_spec(bot: Bot) -> None:
    from tests.support import slack_spec

    bot.slack.share_file_in_dm(ANA, "kpis.csv", GOOD_CSV)
    bot.click(dm_message(bot, ANA, containing="Import"), ActionId.KPI_IMPORT_RUN, ANA)
    dm_message(bot, ANA, containing="Imported")
    bot.say(ANA, "/kpi export by:channel format:csv")
    wait_until(lambda: bot.slack.get_calls("files.completeUploadExternal"), what="the export's upload")
    bot.app.runtime.background.shutdown(wait=True)
    methods = {call.method for call in bot.slack.calls}
    assert {"files.info", "conversations.open", "chat.postMessage", "chat.update",
            "files.getUploadURLExternal", "files.completeUploadExternal"} <= methods, methods
    slack_spec.assert_calls_conform(bot.slack)
