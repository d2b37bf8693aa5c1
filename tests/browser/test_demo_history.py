"""The demo in a browser: the channels open on the bot's recent posts (digests, last week's report and its
charts, a retrospective in Chinese), and the "Try" chips write to the demo's records.

Screenshots go to test-artifacts/browser/ (demo-*.png)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import shot
from tests.browser.test_playground_ui import TIMEOUT, bot_message, expect, open_channel, type_line

pytestmark = pytest.mark.browser


def _loaded(images: Any) -> int:
    return int(images.evaluate_all("imgs => imgs.filter(i => i.complete && i.naturalWidth > 50).length"))


def test_marketing_opens_on_the_digests_and_last_weeks_report(page: Any) -> None:
    open_channel(page, "marketing")
    messages = page.locator("#messages .msg.from-bot:not(.ephemeral)")
    expect()(messages.filter(has_text="Daily digest")).to_have_count(3)
    report = bot_message(page, "Weekly KPI report", ephemeral=False)
    headline = report.locator("img.bk-img")
    expect()(headline).to_have_count(1)
    headline.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 50", arg=headline.element_handle(), timeout=TIMEOUT)
    expect()(report.locator(".thread-link")).to_contain_text(re.compile(r"\d+ replies"))
    shot(page, "demo-01-marketing-history")

    report.locator(".thread-link").click()
    pane = page.locator("#thread")
    expect()(pane).to_be_visible()
    charts = pane.locator("img.file-img")
    expect()(charts.first).to_be_visible()
    page.wait_for_function("() => [...document.querySelectorAll('#thread img.file-img')]"
                           ".filter(i => i.complete && i.naturalWidth > 50).length >= 3", timeout=TIMEOUT)
    assert _loaded(charts) >= 3
    shot(page, "demo-02-report-charts-thread")


def test_the_chinese_channel_reads_in_chinese_with_the_retro_thread(page: Any) -> None:
    open_channel(page, "电商运营")
    expect()(page.locator("#messages .msg.from-bot:not(.ephemeral)", has_text="每日摘要")).to_have_count(3)
    parent = bot_message(page, re.compile(r"复盘 ?R-1："), ephemeral=False)
    expect()(parent.locator(".thread-link")).to_contain_text("5 replies")
    parent.locator(".thread-link").click()
    pane = page.locator("#thread")
    expect()(pane.locator(".msg", has_text="做得好：直播带货")).to_be_visible()
    expect()(pane.locator(".msg", has_text="韩梅梅").first).to_be_visible()
    expect()(pane.locator(".msg.from-bot", has_text="已结束")).to_be_visible()
    shot(page, "demo-03-chinese-retro-thread")


def test_the_try_chips_write_to_the_demo(page: Any) -> None:
    open_channel(page, "general")
    chips = page.locator("#messages .chip")
    labels = chips.all_inner_texts()
    assert any(label.startswith("/task add") for label in labels), labels
    assert any(label.startswith("/kpi log") for label in labels)
    assert any(label.startswith("/goal checkin") for label in labels)
    page.locator("#messages .chip", has_text="/kpi log").click()
    expect()(page.locator("#input")).to_have_value(re.compile(r"^/kpi log gmv"))
    page.locator("#input").press("Enter")
    expect()(bot_message(page, "Logged", ephemeral=True)).to_contain_text("天猫")
    page.locator("#messages .chip", has_text="/goal checkin").click()
    page.locator("#input").press("Enter")
    bot_message(page, "Check-in recorded for G-4", ephemeral=True)
    shot(page, "demo-04-try-chips")

    page.locator("#user-switch").select_option("U0LILEI")
    expect()(page.locator("#messages .chip", has_text="直播预告海报")).to_have_count(1)
    page.locator("#messages .chip", has_text="/task add").click()
    page.locator("#input").press("Enter")
    bot_message(page, "直播预告海报")
    type_line(page, "/task list all")
    shot(page, "demo-05-try-chips-chinese")
