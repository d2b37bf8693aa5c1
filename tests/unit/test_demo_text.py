"""The demo's Chinese reads as a native speaker writes it: no space between two Chinese characters, and
full-width punctuation (，：；（）！？) next to Chinese, never the ASCII kind. Checked on every string literal of
the playground's Python and on the "Try" chips, and on what the seeded records say once the f-strings are filled."""

from __future__ import annotations

import ast
import re
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.playground import DEMO_TEAM, WEB_DIR
from bot.playground.demo import FESTIVALS, retro_replies, seed_demo
from storage.db import open_database
from storage.models import Campaign, CampaignRisk, Feedback, Goal, RetroNote, Task

PLAYGROUND = Path(__file__).resolve().parents[2] / "bot" / "playground"
HAN = r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"
CJK = rf"(?:{HAN}|[\u3000-\u303f\uff00-\uffef])"  # Chinese characters and full-width punctuation
SPACE_BETWEEN = re.compile(rf"{CJK} +{CJK}")
#: `channel:京东` is command syntax, not punctuation
ASCII_PUNCT = re.compile(rf"{HAN} ?[,;:!?()]|(?<![A-Za-z])[,;:!?(] ?{HAN}")


def faults(text: str) -> list[str]:
    found = [f"space in {m.group()!r}" for m in SPACE_BETWEEN.finditer(text)]
    found += [f"ASCII punctuation in {m.group()!r}" for m in ASCII_PUNCT.finditer(text)]
    return found


def literals(path: Path) -> list[str]:
    """Every string constant of a module with Chinese in it, f-strings' literal parts included; not docstrings
    (English prose that names a Chinese term, "a day of 返场, then…")."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)}
    return [node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
            and re.search(HAN, node.value)]


@pytest.mark.parametrize("text", ["双十一 大促", "天猫 订单", "库存不足: 断货", "备货 (30%)", "行动:<@U1> 压测"])
def test_the_check_catches_what_a_native_speaker_would_not_write(text: str) -> None:
    assert faults(text)


@pytest.mark.parametrize("text", ["双十一大促", "天猫订单量突破23.2万单", "库存不足：断货（备货30%）",
                                  "行动：<@U0BO> 下次大促前完成压测 due:2026-12-14", "Email conversion +10%"])
def test_the_check_lets_natural_text_through(text: str) -> None:
    assert not faults(text)


@pytest.mark.parametrize("module", ["demo.py", "__init__.py", "history.py"])
def test_the_playground_modules_chinese_strings(module: str) -> None:
    texts = literals(PLAYGROUND / module)
    if module == "demo.py":
        assert len(texts) > 20
    assert {text: found for text in texts if (found := faults(text))} == {}


def test_the_chinese_try_chips() -> None:
    source = (WEB_DIR / "app.js").read_text(encoding="utf-8")
    block = re.search(r"const EXAMPLES_ZH = \[(.*?)\];", source, re.S)
    assert block is not None
    chips = re.findall(r"[\"']([^\"'\n]*)[\"']", block.group(1))
    assert any(re.search(HAN, c) for c in chips)
    assert {c: found for c in chips if (found := faults(c))} == {}


def test_festival_names_and_the_retrospective_replies() -> None:
    assert {name: found for _m, _d, name in FESTIVALS if (found := faults(name))} == {}
    replies = retro_replies(DEMO_TEAM, retro_day=date(2026, 11, 15), today=date(2026, 11, 24), zone="Asia/Shanghai")
    assert all(re.search(HAN, r.text) for r in replies)
    assert {r.text: found for r in replies if (found := faults(r.text))} == {}


@pytest.mark.parametrize("today", [date(2026, 11, 24), date(2027, 4, 20), date(2027, 7, 1)])
def test_what_the_seeded_records_say(tmp_path: Path, today: date) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'demo.db'}")
    try:
        assert seed_demo(db, workspace_id="T0TEXT", team=DEMO_TEAM, today=today, zone="Asia/Shanghai")
        with db.session(write=False) as session:
            texts = [
                *session.scalars(select(Task.title)), *session.scalars(select(Task.block_reason)),
                *session.scalars(select(Goal.title)), *session.scalars(select(Campaign.name)),
                *session.scalars(select(Campaign.audience)), *session.scalars(select(Campaign.theme)),
                *session.scalars(select(CampaignRisk.text)), *session.scalars(select(Feedback.text)),
                *session.scalars(select(RetroNote.text)),
            ]
    finally:
        db.dispose()
    chinese = [t for t in texts if t and re.search(HAN, t)]
    assert len(chinese) > 10
    assert {t: found for t in chinese if (found := faults(t))} == {}
