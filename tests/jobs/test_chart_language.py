"""Every chart is drawn in the language of where it is posted: each kind (the /kpi show line and its by-channel
bars, a ratio, a goal, the weekly report's charts), built from the database as the bot builds it, in Chinese and
in English, read back from the figure (title, legend, ticks, values on points and bars, footer) before saving."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bot.i18n import EN, ZH_CN
from bot.posts import report
from bot.render import charts
from bot.services import goals, kpis
from jobs.context import JobContext
from storage.models import Goal, Metric
from tests.conftest import Clock
from tests.jobs.test_tick import at

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "charts"
TODAY = date(2026, 11, 23)
#: what the team typed (metric, goal and channel names) and the brand: neither language's own words
NAMES = ("gmv", "orders", "visits", "conversion", "Q4 GMV", "Tmall", "JD", "mktbot", "GMV")
ENGLISH_WORD = re.compile(r"[A-Za-z]{2,}")
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def seed(ctx: JobContext, workspace: str) -> None:
    """Six weeks of GMV in the millions a day on two shops, with orders and visits, and a ¥1亿-scale goal."""
    with ctx.db.session() as s:
        kpis.define_metric(s, workspace_id=workspace, spec=kpis.MetricSpec("gmv", unit="¥"), user_id=None)
        kpis.define_metric(s, workspace_id=workspace, spec=kpis.MetricSpec("conversion", numerator="orders",
                                                                           denominator="visits"), user_id=None)
        for back in range(1, 43):
            day = TODAY - timedelta(days=back)
            for channel, gmv, visits, orders in (("Tmall", 1_800_000 + back * 1000, 40000, 1200), ("JD", 900_000, 20000, 500)):
                for name, value in (("gmv", gmv), ("visits", visits + back), ("orders", orders)):
                    kpis.log_value(s, workspace_id=workspace, metric_name=name, value=Decimal(value), percent=False,
                                   channel=channel, day=day, user_id="U0ANA")
        goals.create_goal(
            s, workspace_id=workspace,
            data=goals.GoalCreate(title="Q4 GMV", metric="gmv", target=Decimal(120_000_000), target_percent=False,
                                  start_on=date(2026, 10, 1), due_on=date(2026, 12, 31), currency="¥"),
            user_id="U0ANA",
        )


def specs(ctx: JobContext, workspace: str) -> dict[str, dict[str, Any]]:
    """The charts the bot draws: the weekly report's (goal, by channel, ratio) and /kpi show's."""
    with ctx.db.session(write=False) as s:
        data = report.collect(s, workspace_id=workspace, today=TODAY)
        gmv = s.query(Metric).filter_by(workspace_id=workspace, name="gmv").one()
        goal = s.query(Goal).filter_by(workspace_id=workspace).one()
    kinds = {spec["name"]: spec for spec in data.charts}
    assert {"goal-G-1", "by-channel"} <= set(kinds) and any(k.startswith("ratio-") for k in kinds), kinds
    show = {"metric_id": gmv.id, "start": (TODAY - timedelta(days=22)).isoformat(), "end": TODAY.isoformat(),
            "goals": [goal.id]}
    return {
        **{("ratio" if name.startswith("ratio-") else name): spec for name, spec in kinds.items()},
        # `/kpi show gmv` (one line of bars a day, the goal's pace, today hatched) and `by:channel`, `channel:JD`
        "kpi-show": {**show, "type": "breakdown", "name": "kpi-K-1", "channel": None},
        "kpi-show-channel": {**show, "type": "breakdown", "name": "kpi-K-1", "channel": "JD"},
        "kpi-show-ratio": {**show, "type": "ratio", "name": "kpi-K-2",
                           "metric_id": kinds[next(k for k in kinds if k.startswith("ratio-"))]["metric_id"]},
    }


def foreign_words(texts: tuple[str, ...]) -> list[str]:
    """English words in a Chinese chart, the team's names and the brand aside."""
    found = []
    for text in texts:
        for name in sorted(NAMES, key=len, reverse=True):
            text = text.replace(name, " ")
        found += ENGLISH_WORD.findall(text)
    return found


def assert_fits(drawn: charts.Drawn, name: str) -> None:
    assert drawn.outside == (), (name, drawn.outside)
    assert drawn.legend_box is not None, name
    x0, y0, x1, y1 = drawn.legend_box
    width, height = drawn.size
    assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height, (name, drawn.legend_box)


def money_ticks(drawn: charts.Drawn) -> list[str]:
    return [t for t in drawn.y_ticks if t.startswith("¥") and t != "¥0"]


@pytest.fixture
def drawn(ctx: JobContext, workspace: str, job_clock: Clock) -> dict[tuple[str, str], charts.Drawn]:
    at(job_clock, "2026-11-23T09:00:00+08:00")
    seed(ctx, workspace)
    out = {}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for name, spec in specs(ctx, workspace).items():
        for locale in (ZH_CN, EN):
            chart = report.build_chart(ctx, workspace, spec, locale)
            png, texts = charts.render_drawn(chart)
            (ARTIFACTS / f"language_{name}_{locale}.png").write_bytes(png)
            out[(name, locale)] = texts
            # the file says the same: its Description holds every string drawn
            from PIL import Image

            with Image.open(io.BytesIO(png)) as image:
                assert image.info.get("Description") == "\n".join(texts.texts)
    return out


def test_chinese_charts_have_no_english_and_write_wan_and_chinese_dates(drawn: dict[tuple[str, str], charts.Drawn]) -> None:
    for (name, locale), texts in drawn.items():
        if locale != ZH_CN:
            continue
        assert not foreign_words(texts.texts), (name, foreign_words(texts.texts), texts.texts)
        assert_fits(texts, name)
        for tick in money_ticks(texts):
            assert tick.endswith(("万", "亿")) or "," in tick or tick[1:].isdigit(), (name, tick)
            assert not tick.endswith(("k", "M", "B")), (name, tick)
        # one unit for the whole axis, and never a fraction of 亿 (¥0.25亿): ¥2,500万 instead
        units = {t[-1] for t in money_ticks(texts) if t[-1] in "万亿"}
        assert len(units) <= 1, (name, texts.y_ticks)
        assert not any(t.startswith("¥0.") for t in texts.y_ticks), (name, texts.y_ticks)
        assert all(re.fullmatch(r"(\d{4}年)?(\d{1,2}月)?(\d{1,2}日)?", t) for t in texts.x_ticks), (name, texts.x_ticks)
        assert "年" in texts.footer and "月" in texts.footer, texts.footer
    goal = drawn[("goal-G-1", ZH_CN)]
    assert set(goal.x_ticks) >= {"10月", "11月", "12月"}, goal.x_ticks
    assert any("万" in t for t in goal.y_ticks) and any("万" in t or "亿" in t for t in goal.legend), goal
    assert any(t.startswith("截止") and t.endswith("12月31日") for t in goal.notes), goal.notes
    show = drawn[("kpi-show", ZH_CN)]
    assert "不完整周期（斜线）" in show.legend and any(t.startswith("G-1每日进度¥") for t in show.legend), show.legend
    assert any(re.fullmatch(r"\d{1,2}月\d{1,2}日", t) for t in show.x_ticks), show.x_ticks
    assert "按渠道" in drawn[("by-channel", ZH_CN)].title
    assert "年" in drawn[("by-channel", ZH_CN)].subtitle  # 2026年10月26日–11月22日, not ISO dates


def test_english_charts_have_no_chinese_and_write_k_and_m(drawn: dict[tuple[str, str], charts.Drawn]) -> None:
    for (name, locale), texts in drawn.items():
        if locale != EN:
            continue
        assert not [t for t in texts.texts if CJK.search(t)], (name, texts.texts)
        assert_fits(texts, name)
        for tick in money_ticks(texts):
            assert tick.endswith(("k", "M", "B")) or tick[1:].replace(",", "").isdigit(), (name, tick)
    goal = drawn[("goal-G-1", EN)]
    assert set(goal.x_ticks) & set(MONTHS), goal.x_ticks
    assert any(t.endswith("M") for t in goal.y_ticks), goal.y_ticks
    show = drawn[("kpi-show", EN)]
    assert "partial period (hatched)" in show.legend and any(t.startswith("G-1 pace/day ¥") for t in show.legend)


def test_the_text_fallback_is_weekly_in_the_charts_units_and_dates(ctx: JobContext, workspace: str, job_clock: Clock) -> None:
    """The table a failed upload posts instead of the by-channel chart: a row a week, 万 and 11月2日 in Chinese."""
    at(job_clock, "2026-11-23T09:00:00+08:00")
    seed(ctx, workspace)
    spec = specs(ctx, workspace)["by-channel"]
    zh = charts.text_table(report.build_chart(ctx, workspace, spec, ZH_CN))
    en = charts.text_table(report.build_chart(ctx, workspace, spec, EN))
    for table in (zh, en):
        lines = table.splitlines()
        body = lines[4:-1]
        assert 4 <= len(body) <= 5, table  # 28 days: four or five weeks, not 28 columns
        assert max(charts.display_width(line) for line in lines) <= 64, table
        assert not re.search(r"\d{4}-\d{2}-\d{2}", table), table
    assert "万" in zh and "周起始日" in zh and re.search(r"\d+月\d+日", zh) and not CJK.search(en), (zh, en)
    assert "Week of" in en and re.search(r"(Oct|Nov) \d+", en), en
