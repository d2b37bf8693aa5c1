"""`/kpi show`'s chart is drawn in the channel's team language, whoever asks, and the App Home shows each reader
the latest chart in that reader's own language: read back from the uploaded PNG, whose Description carries
every string the chart drew."""

from __future__ import annotations

import io
import re
import time

from bot.ids import BlockId
from bot.localslack import LocalSlack
from bot.localslack.records import File
from tests.interactive.test_locale import warmed
from tests.support.harness import ANA, GENERAL, LILEI, Bot, block, wait_until

NAMES = ("gmv", "JD", "mktbot")  # typed by the team, and the brand
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")


def shared_files(slack: LocalSlack, count: int, timeout: float = 20) -> list[File]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        files = [f for f in slack.files.values() if f.channel]
        if len(files) >= count:
            return sorted(files, key=lambda f: f.id)
        time.sleep(0.05)
    raise AssertionError(slack.dump(limit=10))


def drawn_texts(slack: LocalSlack, upload: File) -> list[str]:
    from PIL import Image

    content = slack.file_bytes(upload.id)
    assert content is not None and content.startswith(b"\x89PNG")
    with Image.open(io.BytesIO(content)) as image:
        return str(image.info["Description"]).split("\n")


def english_words(texts: list[str]) -> list[str]:
    found = []
    for text in texts:
        for name in NAMES:
            text = text.replace(name, " ")
        found += re.findall(r"[A-Za-z]{2,}", text)
    return found


def log_gmv(bot: Bot) -> None:
    for day in range(1, 20):
        bot.say(LILEI, f"/kpi log gmv ¥{1_500_000 + day * 1000} channel:天猫 date:2026-11-{day:02d}")
        bot.say(LILEI, f"/kpi log gmv ¥{600_000 + day} channel:JD date:2026-11-{day:02d}")


def test_kpi_show_in_a_chinese_channel_draws_a_chinese_chart(bot: Bot) -> None:
    said = bot.say(ANA, "/mkt language zh-CN")
    assert "Chinese" in said, said
    log_gmv(bot)

    # Ana's own Slack is English; the channel reads Chinese, so the chart is Chinese
    said = bot.say(ANA, "/kpi show gmv by:channel period:this-month")
    assert said.ephemeral, said
    [upload] = shared_files(bot.slack, 1)
    assert upload.channel == GENERAL
    assert upload.title == "gmv（按渠道）", upload.title
    texts = drawn_texts(bot.slack, upload)
    assert texts[0] == "gmv（按渠道）" and "天猫" in texts and "JD" in texts, texts
    assert not english_words(texts), (english_words(texts), texts)
    assert any(re.fullmatch(r"¥[\d,.]+万", t) for t in texts), texts  # ¥150万, not ¥1.5M
    assert not any(re.fullmatch(r"¥[\d,.]+[kMB]", t) for t in texts), texts
    assert any(re.fullmatch(r"\d{1,2}月\d{1,2}日", t) for t in texts), texts  # 11月1日, not 11-01
    assert texts[-1] == "mktbot · 2026年11月23日", texts

    # Li Lei reads Chinese: his Home shows it; Ana's English Home has no chart rather than a Chinese one
    bot.slack.open_app_home(LILEI)
    home = wait_until(lambda: (h := bot.slack.home_view(LILEI)) and block(h, BlockId.HOME_CHART) and h,
                      what="the chart on the Chinese Home")
    image = block(home, BlockId.HOME_CHART)
    assert image is not None and image["slack_file"] == {"id": upload.id}
    assert image["title"]["text"] == "gmv（按渠道）"
    bot.slack.open_app_home(ANA)
    ana = bot.home(ANA, containing="Nothing open")
    assert block(ana, BlockId.HOME_CHART) is None, "no chart in another language on Ana's English Home"

    # the channel back in English: the same command draws an English chart, which is Ana's Home's
    bot.say(ANA, "/mkt language en")
    bot.say(LILEI, "/kpi show gmv by:channel period:this-month")
    english = shared_files(bot.slack, 2)[-1]
    assert english.title == "gmv by channel", english.title
    texts = drawn_texts(bot.slack, english)
    assert not [t for t in texts if CJK.search(t) and "天猫" not in t], texts
    assert any(re.fullmatch(r"¥[\d.]+[kM]", t) for t in texts), texts
    bot.slack.open_app_home(ANA)
    wait_until(lambda: (block(bot.slack.home_view(ANA) or {}, BlockId.HOME_CHART) or {}).get("slack_file")
               == {"id": english.id}, what="the English chart on Ana's Home")
    bot.slack.open_app_home(LILEI)
    time.sleep(0.3)
    wait_until(lambda: (block(bot.slack.home_view(LILEI) or {}, BlockId.HOME_CHART) or {}).get("slack_file")
               == {"id": upload.id}, what="Li Lei's Home keeps the Chinese chart")


def test_a_chart_that_cannot_be_drawn_is_told_in_the_askers_language(bot: Bot) -> None:
    """The private fallback (the chart's numbers) is in the asker's language, not hard-coded English."""
    from unittest import mock

    bot.say(LILEI, "/kpi log gmv ¥862.5 channel:天猫 date:2026-11-20")
    warmed(bot, LILEI)  # his first reply is in the default language; from here on in his own
    with mock.patch("bot.render.charts.render", side_effect=RuntimeError("no display")):
        bot.say(LILEI, "/kpi show gmv by:channel")
        message = bot.slack.wait_for_message(GENERAL, where=lambda m: "图表无法绘制" in m.text, timeout=20)
    assert "could not" not in message.text and "```" in message.text, message.text
    assert "¥862.50" in message.text and "11月" in message.text and "周起始日" in message.text, message.text
    assert not bot.slack.files
