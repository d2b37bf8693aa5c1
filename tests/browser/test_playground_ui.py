"""The playground in a real browser: what a curious marketing lead does in the first ten minutes.

Each test leaves a screenshot in test-artifacts/browser/. The tests share one demo playground (module
scope) and run in file order; each works in its own channel so its screenshot shows one story.
"""

from __future__ import annotations

import json
import re
import urllib.request
from datetime import timedelta
from typing import Any

import pytest

from bot.playground import Playground
from tests.browser.conftest import shot

pytestmark = pytest.mark.browser

TIMEOUT = 15_000  # ms: the scheduler heartbeat delivers some posts (2 s here), the rest arrive at once


def expect() -> Any:
    from playwright.sync_api import expect as playwright_expect

    playwright_expect.set_options(timeout=TIMEOUT)
    return playwright_expect


def open_channel(page: Any, name: str) -> None:
    page.locator("#channel-list button", has_text=re.compile(rf"^#?{re.escape(name)}$")).click()
    expect()(page.locator("#channel-title")).to_have_text(f"#{name}")


def type_line(page: Any, line: str, *, box: str = "#input") -> None:
    page.locator(box).fill(line)
    page.locator(box).press("Enter")


def bot_message(page: Any, text: str | re.Pattern[str], *, ephemeral: bool | None = None, where: str = "#messages") -> Any:
    kind = "" if ephemeral is None else (".ephemeral" if ephemeral else ":not(.ephemeral)")
    locator = page.locator(f"{where} .msg.from-bot{kind}", has_text=text).last
    expect()(locator).to_be_visible()
    return locator


def state(playground: Playground, user: str = "U0ANA") -> dict[str, Any]:
    with urllib.request.urlopen(f"{playground.url}/playground/state?user={user}", timeout=10) as resp:
        return dict(json.loads(resp.read()))


# ---- 1. a slash command and its private reply -------------------------------------------------------------


def test_slash_command_shows_the_bots_reply(page: Any) -> None:
    open_channel(page, "general")
    page.locator("#input").fill("/go")
    expect()(page.locator("#suggest")).to_contain_text("/goal")
    shot(page, "01a-command-menu")

    type_line(page, "/goal list")
    reply = bot_message(page, "G-1", ephemeral=True)
    expect()(reply).to_contain_text("Only visible to you")
    expect()(reply).to_contain_text("G-3")
    # status circles are drawn, not left as :shortcodes:
    assert reply.locator(".dot").count() >= 3
    assert ":large_green_circle:" not in reply.inner_text()
    shot(page, "01-slash-command")


# ---- 2. a button on a reply ---------------------------------------------------------------------------------


def test_clicking_a_button_changes_the_message(page: Any) -> None:
    open_channel(page, "general")
    type_line(page, '/task add "Banner for 双十二 预热" @bo due:tomorrow')
    reply = bot_message(page, "Banner for 双十二 预热")
    buttons = reply.locator(".bk-button")
    if buttons.count() == 0:
        pytest.xfail("task replies carry no buttons yet (interactive replies are another engineer's issue)")
    done = reply.locator(".bk-button.primary")
    target = done.first if done.count() else buttons.first
    before = reply.inner_text()
    shot(page, "02a-buttons-before")
    target.click()
    expect()(reply).not_to_have_text(before)
    expect()(reply).to_contain_text(re.compile(r"done|完成", re.IGNORECASE))
    shot(page, "02-button-clicked")


# ---- 3. a modal ---------------------------------------------------------------------------------------------------


def test_a_modal_opens_validates_and_submits(page: Any, playground: Playground) -> None:
    open_channel(page, "social-media")
    type_line(page, "/task")
    modal = page.locator("#modal-root .modal")
    try:
        modal.wait_for(timeout=5_000)
    except Exception:
        pytest.xfail("`/task` with no text does not open a modal yet (interactive work is another issue)")
    shot(page, "03a-modal-open")

    modal.locator('[data-modal="submit"]').click()  # nothing filled in: Slack refuses required fields
    expect()(modal.locator(".bk-error:visible").first).to_be_visible()
    shot(page, "03b-modal-required")

    today = playground.today()
    modal.locator('.bk-input-block[data-block-id="title"] .bk-input').fill("小红书 KOC 种草 brief")
    owner = modal.locator('.bk-input-block[data-block-id="owner"] select')
    if owner.count():
        owner.select_option("U0LILEI")
    start = modal.locator('.bk-input-block[data-block-id="start"] input')
    due = modal.locator('.bk-input-block[data-block-id="due"] input')
    if start.count() and due.count():
        # due before start: the bot answers with response_action "errors", shown under the field
        start.fill((today + timedelta(days=5)).isoformat())
        due.fill((today + timedelta(days=1)).isoformat())
        modal.locator('[data-modal="submit"]').click()
        expect()(modal.locator('.bk-input-block[data-block-id="due"] .bk-error')).to_be_visible()
        assert "Please fill out" not in modal.locator('.bk-input-block[data-block-id="due"] .bk-error').inner_text()
        shot(page, "03c-modal-error-from-bot")
        due.fill((today + timedelta(days=9)).isoformat())
    modal.locator('[data-modal="submit"]').click()
    expect()(page.locator("#modal-root .modal")).to_have_count(0)
    reply = bot_message(page, "小红书 KOC 种草 brief")
    shot(page, "03-modal-submitted")
    assert "T-" in reply.inner_text()


# ---- 4. a retrospective thread -----------------------------------------------------------------------------------


def test_replying_in_a_retro_thread_is_collected(page: Any, playground: Playground) -> None:
    open_channel(page, "marketing")
    type_line(page, "/retro start")
    parent = bot_message(page, "went well", ephemeral=False)
    parent.hover()
    parent.locator("[data-thread]").first.click()
    pane = page.locator("#thread")
    expect()(pane).to_be_visible()
    type_line(page, "went well: 直播带货", box="#thread-input")
    expect()(pane.locator(".msg", has_text="went well: 直播带货")).to_be_visible()
    expect()(parent.locator(".thread-link")).to_contain_text("1 reply")
    shot(page, "04-retro-thread")

    # the bot collected the note: /retro list counts it
    type_line(page, "/retro list")
    listed = bot_message(page, re.compile(r"R-\d+"), ephemeral=True)
    expect()(listed).to_contain_text(re.compile(r"\b1\b"))


# ---- 5. the clock panel ------------------------------------------------------------------------------------------


def test_run_digest_from_the_clock_panel(page: Any) -> None:
    open_channel(page, "campaigns")
    page.locator(".clock-btn", has_text="Run digest now").click()
    expect()(page.locator("#toast")).to_contain_text("digest")
    digest = bot_message(page, re.compile(r"digest", re.IGNORECASE), ephemeral=False)
    expect()(digest).to_contain_text("G-")
    shot(page, "05-digest-from-clock-panel")


def test_advance_a_day_runs_the_schedules(page: Any, playground: Playground) -> None:
    before = playground.today()
    open_channel(page, "marketing")
    page.locator(".clock-btn", has_text="Advance 1 day").click()
    expect()(page.locator("#toast")).to_contain_text("Moved 1 day")
    assert playground.today() > before
    expect()(page.locator("#clock-offset")).to_contain_text("ahead")
    # the demo's 09:30 digest in #marketing went out during that day
    bot_message(page, re.compile(r"digest", re.IGNORECASE), ephemeral=False)
    shot(page, "06-advanced-one-day")
    # reminders arrive as direct messages from the app: Sara owns a task due the next day
    page.locator("#user-switch").select_option("U0SARA")
    page.locator("#app-list button").click()
    page.locator("#tabs button", has_text="Messages").click()
    expect()(page.locator("#messages .msg.from-bot").first).to_be_visible()
    shot(page, "06b-reminders-in-dm")


# ---- 6. charts and images -----------------------------------------------------------------------------------


def _image_loaded(page: Any, selector: str) -> bool:
    return bool(
        page.locator(selector).last.evaluate("img => img.complete && img.naturalWidth > 50 && img.naturalHeight > 50")
    )


def test_a_chart_image_loads(page: Any, playground: Playground) -> None:
    open_channel(page, "marketing")
    type_line(page, "/kpi show gmv by:channel")
    bot_message(page, "gmv", ephemeral=True)
    images = page.locator("#messages img.file-img, #messages img.bk-img")
    try:
        images.last.wait_for(timeout=8_000)
    except Exception:
        images = None
    if images is None:
        # No chart on /kpi show yet: upload one the way the bot does (files_upload_v2) and see it inline.
        from slack_sdk import WebClient

        assert playground.slack is not None
        client = WebClient(token=playground.slack.bot_token, base_url=playground.slack.api_url)
        client.files_upload_v2(channel="C0MARKETING", content=_chart_png(), filename="gmv-by-channel.png",
                               title="GMV by channel (30 days)")
        images = page.locator("#messages img.file-img")
        images.last.wait_for(timeout=TIMEOUT)
    images.last.scroll_into_view_if_needed()
    page.wait_for_function(
        "() => [...document.querySelectorAll('#messages img.file-img, #messages img.bk-img')]"
        ".some(i => i.complete && i.naturalWidth > 50)",
        timeout=TIMEOUT,
    )
    shot(page, "07-chart-image")


def _chart_png() -> bytes:
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3), dpi=100)
    ax.bar(["Tmall", "JD", "email", "search", "social"], [31.2, 15.9, 2.1, 5.4, 4.3], color="#1164a3")
    ax.set_title("GMV by channel, ¥m")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


# ---- 7. people: switching users, a Chinese-locale colleague, the App Home ------------------------------------


def test_switching_user_shows_only_their_private_replies(page: Any, playground: Playground) -> None:
    open_channel(page, "general")
    type_line(page, "/task list mine")
    mine = bot_message(page, re.compile(r"T-\d+|task", re.IGNORECASE), ephemeral=True)
    ana_text = mine.inner_text()
    page.locator("#user-switch").select_option("U0LILEI")
    expect()(page.locator("#who-title")).to_contain_text("zh-CN")
    # Ana's private replies are gone for 李雷
    expect()(page.locator("#messages .msg.ephemeral", has_text=ana_text[:40])).to_have_count(0)
    type_line(page, "/task list mine")
    bot_message(page, re.compile(r"T-\d+|任务|task", re.IGNORECASE), ephemeral=True)
    shot(page, "08-chinese-colleague")
    private_to_lilei = [m for m in state(playground, "U0LILEI")["messages"] if m["ephemeral"]]
    private_to_ana = [m for m in state(playground, "U0ANA")["messages"] if m["ephemeral"]]
    assert len(private_to_lilei) == 1 and len(private_to_ana) > 1


def test_app_home_tab(page: Any) -> None:
    page.locator("#app-list button").click()
    page.locator("#tabs button", has_text="Home").click()
    home = page.locator("#home")
    expect()(home).to_be_visible()
    page.locator('#home[data-ready="1"]').wait_for(timeout=TIMEOUT)  # the bot answered app_home_opened
    try:
        page.locator("#home .home-view").wait_for(timeout=6_000)
    except Exception:
        shot(page, "09-app-home")
        expect()(home).to_contain_text("Home tab")
        pytest.xfail("the bot does not publish a Home tab yet (app_home_opened is another issue)")
    shot(page, "09-app-home")
    assert home.locator(".bk-section, .bk-header").count() > 0
    menu = home.locator(".bk-overflow")
    if menu.count():  # a task's ⋯ menu: pick "Start" and the Home tab is published again
        before = home.inner_text()
        menu.first.click()
        options = home.locator(".overflow-menu:not([hidden]) .overflow-option")
        expect()(options.first).to_be_visible()
        shot(page, "09b-app-home-menu")
        start = options.filter(has_text=re.compile(r"start|开始", re.IGNORECASE))
        (start.first if start.count() else options.first).click()
        expect()(home).not_to_have_text(before)
        shot(page, "09c-app-home-after-menu")
