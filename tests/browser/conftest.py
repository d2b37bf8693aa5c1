"""Browser tests: the playground page in Debian's headless Chromium, driven by Playwright for Python.

Playwright never downloads a browser here: it launches /usr/bin/chromium (`executable_path`). Without it
(or without the playwright package) the browser tests skip, except under CI (env CI set), where they fail.
Screenshots of every step go to test-artifacts/browser/.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.playground import Playground
from bot.settings import Settings

CHROMIUM = os.environ.get("MKTBOT_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
VIEWPORT = {"width": 1400, "height": 900}


def _missing(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so the browser tests must run: apt-get install chromium)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).is_file():
        _missing(f"no Chromium at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed (pip install -e '.[dev]')")
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def playground(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Playground]:
    """The demo team on its own SQLite file and a free port, with a quick scheduler heartbeat."""
    path = tmp_path_factory.mktemp("playground") / "mktbot.db"
    settings = Settings(database_url=f"sqlite:///{path}", timezone="Asia/Shanghai")
    pg = Playground(settings, port=0, demo=True, tick_seconds=2).start()
    try:
        yield pg
    finally:
        pg.stop()


class PageErrors:
    """JavaScript errors and any request that tried to leave the machine."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.outside: list[str] = []


@pytest.fixture
def page(browser: Any, playground: Playground) -> Iterator[Any]:
    context = browser.new_context(viewport=VIEWPORT, locale="en-US")
    seen = PageErrors()

    def route(r: Any) -> None:
        url = r.request.url
        if url.startswith(playground.url) or url.startswith(("data:", "blob:")):
            r.continue_()
        else:
            seen.outside.append(url)
            r.abort()

    context.route("**/*", route)
    pg = context.new_page()
    pg.on("pageerror", lambda exc: seen.errors.append(str(exc)))
    pg.on("console", lambda msg: seen.errors.append(msg.text) if msg.type == "error" else None)
    pg.goto(playground.url)
    pg.wait_for_selector("#channel-list button")
    try:
        yield pg
    finally:
        context.close()
    assert not seen.outside, f"the page tried to load from outside the machine: {seen.outside}"
    assert not seen.errors, f"errors in the page: {seen.errors}"


def shot(page: Any, name: str, *, element: str | None = None) -> Path:
    """Save a screenshot under test-artifacts/browser/ (look at them: they are what a user sees)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.wait_for_timeout(150)  # let the last repaint land
    if element:
        page.locator(element).screenshot(path=str(path))
    else:
        page.screenshot(path=str(path))
    return path
