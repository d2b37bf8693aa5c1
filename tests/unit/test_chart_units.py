"""Chart units and dates as each language writes them, money's decimals, legends that fit, and the Home's chart
in its reader's language."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from bot.i18n import EN, ZH_CN
from bot.i18n.fmt import fmt_number
from bot.render import charts as c
from bot.services import chart_files

D = Decimal


@pytest.mark.parametrize(
    ("ticks", "labels"),
    [
        ([i * 25_000_000 for i in range(6)], ["¥0", "¥2,500万", "¥5,000万", "¥7,500万", "¥10,000万", "¥12,500万"]),
        ([i * 100_000_000 for i in range(4)], ["¥0", "¥1亿", "¥2亿", "¥3亿"]),
        ([i * 500_000 for i in range(4)], ["¥0", "¥50万", "¥100万", "¥150万"]),
        ([i * 5_000 for i in range(5)], ["¥0", "¥5,000", "¥10,000", "¥15,000", "¥20,000"]),
    ],
)
def test_a_chinese_axis_has_one_unit_and_never_a_fraction_of_yi(ticks: list[float], labels: list[str]) -> None:
    token = c._SCALES.set(c._CJK_SCALES)
    try:
        assert c._formatter("¥").format_ticks(ticks) == labels
    finally:
        c._SCALES.reset(token)
    assert c._formatter("¥").format_ticks([i * 25_000_000 for i in range(3)]) == ["¥0", "¥25M", "¥50M"]


def test_dates_on_charts_in_each_language() -> None:
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(minticks=3, maxticks=6)
    months = [mdates.date2num(date(2026, m, 1)) for m in (10, 11, 12)] + [mdates.date2num(date(2027, 1, 1))]
    assert c._date_formatter(locator, ZH_CN).format_ticks(months) == ["10月", "11月", "12月", "2027年"]
    assert c._date_formatter(locator, EN).format_ticks(months) == ["Oct", "Nov", "Dec", "2027"]
    days = [mdates.date2num(d) for d in (date(2026, 11, 1), date(2026, 11, 15), date(2026, 12, 1))]
    assert c._date_formatter(locator, ZH_CN).format_ticks(days) == ["11月", "11月15日", "12月"]
    assert c.period_label(date(2026, 11, 2), "D", ZH_CN) == "11月2日" and c.period_label(date(2026, 11, 2), "M", ZH_CN) == "2026年11月"
    assert c.date_range(date(2026, 11, 2), date(2026, 11, 29), ZH_CN) == "2026年11月2日–11月29日"
    assert c.date_range(date(2026, 12, 2), date(2027, 1, 3), EN) == "Dec 2, 2026 – Jan 3, 2027"


def test_money_has_two_decimals_or_none() -> None:
    assert fmt_number(D("862.5"), "¥", ZH_CN) == "¥862.50"
    assert fmt_number(D("862.5"), "¥", EN) == "¥862.50"
    assert fmt_number(D("862"), "¥", EN) == "¥862" and fmt_number(D("862.004"), "¥", EN) == "¥862"
    assert fmt_number(D("0.5"), "$", EN) == "$0.50" and fmt_number(D("-12.3"), "¥", EN) == "-¥12.30"
    assert fmt_number(D("862.5"), None, EN) == "862.5", "a count or score keeps its own decimals"
    assert fmt_number(D("1234.5"), "¥", EN) == "¥1,235"


def test_a_long_legend_wraps_inside_the_picture() -> None:
    """The /kpi show chart that cut "partial period (hatch…" at the right edge: every entry stays inside."""
    days = [date(2026, 11, 1) + timedelta(days=i) for i in range(23)]
    values = [None] * 19 + [D(12000), D(20000), D(7000), None]
    for locale in (EN, ZH_CN):
        chart = c.BreakdownChart(
            title="gmv by channel · jd", subtitle="", unit="¥", periods=days, values={"JD": values},
            totals={"JD": D(39000)}, freq="D", references=(("G-1 pace/day", D(3_260_000)), ("G-2 pace/day", D(3333))),
            partial=[False] * 22 + [True], labels=c.ChartLabels.of(locale), generated_on=days[-1],
        )
        _, drawn = c.render_drawn(chart)
        assert drawn.outside == (), drawn
        assert drawn.legend_box is not None
        x0, y0, x1, y1 = drawn.legend_box
        assert x0 >= 0 and y0 >= 0 and x1 <= drawn.size[0] and y1 <= drawn.size[1], drawn
        assert c.ChartLabels.of(locale).partial in drawn.legend


def test_the_home_picks_the_latest_chart_in_its_readers_language() -> None:
    team = "T0CHARTLANG"
    chart_files.LATEST.clear()
    now = datetime(2026, 11, 23, tzinfo=UTC)
    chart_files.remember(team, "F0ZH", "gmv（按渠道）", now, locale="zh-CN")
    chart_files.remember(team, "F0EN", "gmv by channel", now + timedelta(minutes=1), locale=EN)
    assert chart_files.latest(None, team, locale=ZH_CN).file_id == "F0ZH"  # type: ignore[union-attr]
    assert chart_files.latest(None, team, locale="en-US").file_id == "F0EN"  # type: ignore[union-attr]
    assert chart_files.latest(None, team).file_id == "F0EN"  # type: ignore[union-attr]
    assert chart_files.ChartFile.from_json({"id": "F1", "uploaded_at": now.isoformat()}, default_locale="zh-CN").locale == ZH_CN  # type: ignore[union-attr]
    chart_files.LATEST.clear()
