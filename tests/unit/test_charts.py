"""Charts: valid PNGs, every CJK label drawn as text, no-data and bad-data errors, bounded memory, text tables."""

from __future__ import annotations

import gc
import io
import logging
import threading
import warnings
from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise
from pathlib import Path

import pytest

from bot import analytics as an
from bot.i18n import ZH_CN
from bot.i18n.fmt import fmt_number
from bot.render import charts as c
from bot.services import kpis
from storage.db import Database

D = Decimal
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "charts"
CJK_LABELS = ("天猫", "京东", "转化率", "双十一", "预售", "拼多多", "抖音", "小红书")
TODAY = date(2026, 11, 23)
WEEKS = [date(2026, 10, 5) + timedelta(weeks=i) for i in range(8)]


def goal_chart(**overrides: object) -> c.GoalChart:
    start, due = date(2026, 10, 20), date(2026, 11, 30)
    days = [start + timedelta(days=i) for i in range(35)]
    actual, total = [], D(0)
    for i, day in enumerate(days):
        total += D(18000 + (i % 7) * 1500 + (60000 if day == date(2026, 11, 11) else 0))
        actual.append(total)
    fields: dict[str, object] = {
        "title": "G-3 双十一 GMV 冲刺 (天猫 + 京东)",
        "subtitle": "GMV · 预售 + 现货 · on track",
        "unit": "¥",
        "start": start,
        "deadline": due,
        "target": D(1_200_000),
        "days": days,
        "actual": actual,
        "projected": actual[-1] / 35 * 42,
        "generated_on": TODAY,
    }
    baseline = overrides.pop("baseline", D(0))  # where the pace line starts; None: no pace line
    fields.update(overrides)
    target = fields["target"]
    fields["pace"] = None if baseline is None else ((start - timedelta(days=1), baseline), (due, target))
    return c.GoalChart(**fields)  # type: ignore[arg-type]


def stacked_chart(
    channels: tuple[str, ...] = CJK_LABELS[:2] + CJK_LABELS[5:] + ("",), **overrides: object
) -> c.BreakdownChart:
    values = {ch: [D(50000 // (i + 1) + 900 * w) for w in range(len(WEEKS))] for i, ch in enumerate(channels)}
    totals = {ch: sum(v, D(0)) for ch, v in values.items()}
    fields: dict[str, object] = {
        "title": "GMV by channel · 渠道",
        "subtitle": "2026-10-05 – 2026-11-29, weekly",
        "unit": "¥",
        "periods": WEEKS,
        "values": values,
        "totals": totals,
        "overall": sum(totals.values(), D(0)),
        "generated_on": TODAY,
        "labels": c.ChartLabels.zh(),
    }
    fields.update(overrides)
    return c.BreakdownChart(**fields)  # type: ignore[arg-type]


def totals_chart() -> c.BreakdownChart:
    totals = dict(
        zip(
            CJK_LABELS[:2] + CJK_LABELS[5:] + ("",),
            map(D, ("0.0342", "0.0288", "0.041", "0.0195", "0.0123", "0.05")),
            strict=True,
        )
    )
    return c.BreakdownChart(
        title="转化率 by channel",
        subtitle="2026-11-01 – 2026-11-22",
        unit="%",
        periods=[],
        values={},
        totals=totals,
        stacked=False,
        overall=D("0.0311"),
        generated_on=TODAY,
    )


def ratio_chart(**overrides: object) -> c.RatioChart:
    nums = [D(300 + 20 * i) for i in range(len(WEEKS))]
    dens = [D(10000 + 500 * (i % 3)) for i in range(len(WEEKS))]
    fields: dict[str, object] = {
        "title": "转化率",
        "unit": "%",
        "formula": "转化率 = 订单 / 访客",
        "periods": WEEKS,
        "values": [n / d for n, d in zip(nums, dens, strict=True)],
        "numerators": nums,
        "denominators": dens,
        "overall": sum(nums, D(0)) / sum(dens, D(0)),
        "overall_numerator": sum(nums, D(0)),
        "overall_denominator": sum(dens, D(0)),
        "generated_on": TODAY,
    }
    fields.update(overrides)
    return c.RatioChart(**fields)  # type: ignore[arg-type]


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        image.verify()
    with Image.open(io.BytesIO(data)) as image:
        return image.size


def save(name: str, data: bytes) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"{name}.png").write_bytes(data)


SAMPLES = {
    "goal": goal_chart,
    "goal_ratio": lambda: goal_chart(
        title="G-7 天猫 转化率 提升到 4%",
        subtitle="转化率 = 订单 / 访客 · 天猫",
        unit="%",
        baseline=D("0.03"),
        target=D("0.04"),
        actual=[D("0.028") + D(i) / D(10000) * (1 if i % 3 else -1) for i in range(35)],
        projected=None,
    ),
    "goal_no_baseline": lambda: goal_chart(
        title="G-9 客户满意度 (CSAT) 4.8",
        subtitle="csat · average of logged scores",
        unit=None,
        baseline=None,
        target=D("4.8"),
        actual=[None] * 5 + [D("4.5") + D(i % 4) / 20 for i in range(30)],
        projected=None,
    ),
    "breakdown": stacked_chart,
    "breakdown_many_channels": lambda: stacked_chart(
        channels=(*CJK_LABELS, "微信小程序 private community", "Email newsletter", "SEO", "KOL 直播", "")
    ),
    "breakdown_totals": totals_chart,
    "ratio": ratio_chart,
    "ratio_daily": lambda: ratio_chart(
        periods=[date(2026, 9, 25) + timedelta(days=i) for i in range(60)],
        values=[None if i in (10, 11) else D("0.02") + D(i % 9) / D(1000) for i in range(60)],
        numerators=(),
        denominators=(),
        overall=D("0.0245"),
        freq="D",
    ),
}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_each_chart_renders_a_valid_png(name: str) -> None:
    data = c.render(SAMPLES[name]())
    assert png_size(data) == (1200, 675)
    assert 10_000 < len(data) < 400_000
    save(name, data)


def test_cjk_labels_render_as_text_with_no_missing_glyph(caplog: pytest.LogCaptureFixture) -> None:
    charts = [
        goal_chart(title=" ".join(CJK_LABELS)),
        stacked_chart(channels=CJK_LABELS),
        totals_chart(),
        ratio_chart(),
    ]
    with (
        warnings.catch_warnings(record=True) as caught,
        caplog.at_level(logging.WARNING, logger="matplotlib"),
    ):
        warnings.simplefilter("always")
        for chart in charts:
            c.render(chart)
    messages = [str(w.message) for w in caught] + [r.getMessage() for r in caplog.records]
    assert not [m for m in messages if "missing from" in m or "findfont" in m], messages
    path = c.cjk_font_path()
    from matplotlib.ft2font import FT2Font

    cmap = FT2Font(str(path)).get_charmap()
    assert all(ord(ch) in cmap for ch in "".join(CJK_LABELS) + "，。（）：¥")
    # every GB2312 hanzi (the common simplified set) is covered
    gb2312 = {
        bytes([hi, lo]).decode("gb2312", errors="ignore")
        for hi in range(0xB0, 0xF8)
        for lo in range(0xA1, 0xFF)
    }
    gb2312.discard("")
    assert len(gb2312) == 6763 and all(ord(ch) in cmap for ch in gb2312)


def test_the_glyph_check_would_catch_boxes() -> None:
    """Without the CJK fallback matplotlib warns about missing glyphs: the test above is not vacuous."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with (
        warnings.catch_warnings(record=True) as caught,
        matplotlib.rc_context({"font.family": ["DejaVu Sans"]}),
    ):
        warnings.simplefilter("always")
        fig = Figure()
        FigureCanvasAgg(fig)
        fig.text(0.5, 0.5, "天猫")
        fig.savefig(io.BytesIO(), format="png")
    assert any("missing from font" in str(w.message) for w in caught)


def test_characters_no_font_has_are_left_out_not_drawn_as_boxes() -> None:
    assert c.drawable("双十一 🔥 GMV") == "双十一  GMV"
    assert c.drawable("$5 vs $6") == r"\$5 vs \$6"  # never mathtext
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        c.render(goal_chart(title="🔥 双十一 $ sprint $"))
    assert not [w for w in caught if "missing from" in str(w.message)]


def test_no_data_raises_a_chart_error_for_the_text_fallback() -> None:
    with pytest.raises(c.NoChartData):
        c.render(goal_chart(actual=[None] * 35, projected=None))
    with pytest.raises(c.NoChartData):
        c.render(stacked_chart(values={"天猫": [None] * len(WEEKS)}, totals={"天猫": None}))
    with pytest.raises(c.NoChartData):
        c.render(c.BreakdownChart(title="x", unit=None, periods=[], values={}, totals={}, stacked=False))
    with pytest.raises(c.NoChartData):
        c.render(ratio_chart(values=[None] * len(WEEKS)))
    with pytest.raises(c.ChartError):
        c.render(ratio_chart(values=[D(1)]))  # 8 periods, 1 value
    assert issubclass(c.NoChartData, c.ChartError)


def test_drawing_failures_become_chart_errors() -> None:
    with pytest.raises(c.ChartError, match="could not draw"):
        c.render(goal_chart(target=D("NaN")))


def test_charts_from_analytics_results() -> None:
    metrics = {m.id: m for m in (an.MetricInfo(1, "visits"), an.MetricInfo(2, "orders"))}
    conversion = an.MetricInfo(3, "转化率", unit="%", numerator_id=2, denominator_id=1)
    metrics[3] = conversion
    rows = []
    for i in range(21):
        day = date(2026, 11, 2) + timedelta(days=i)
        rows += [
            (1, "天猫", day, D(1000 + i)),
            (2, "天猫", day, D(30)),
            (1, "京东", day, D(500)),
            (2, "京东", day, D(20)),
        ]
    frame = an.kpi_frame(rows)
    start, end = date(2026, 11, 2), date(2026, 11, 22)
    trend = an.ratio_trend_from_frame(frame, conversion, metrics, start=start, end=end)
    chart = c.RatioChart.from_trend(trend, labels=c.ChartLabels.zh())
    assert chart.formula == "转化率 = orders / visits" and chart.generated_on == end
    assert png_size(c.render(chart)) == (1200, 675)
    breakdown = an.breakdown_from_frame(frame, metrics[1], metrics, start=start, end=end)
    bchart = c.BreakdownChart.from_breakdown(breakdown)
    assert bchart.stacked and list(bchart.values) == ["天猫", "京东"]
    png_size(c.render(bchart))
    series = an.GoalSeries(
        goal_id=1,
        number=4,
        title="双十一 visits",
        metric=metrics[1],
        channel="天猫",
        kind="cumulative",
        start=start,
        deadline=date(2026, 11, 30),
        as_of=end,
        target=D(40000),
        baseline=None,
        actual=tuple(an.DayValue(start + timedelta(days=i), D(1000 * (i + 1))) for i in range(21)),
        weekly=(),
        current=D(21000),
        projected=D(29000),
        needed_per_day=D(2125),
        pace=an.pace_path(kind="total", start=start, deadline=date(2026, 11, 30), target=D(40000), baseline=None,
                          better="up"),
    )
    gchart = c.GoalChart.from_series(series)
    assert gchart.title == "G-4 双十一 visits" and gchart.subtitle == "visits · 天猫"
    assert gchart.projected == D(29000) and gchart.pace == ((start - timedelta(days=1), D(0)), (date(2026, 11, 30), D(40000)))
    png_size(c.render(gchart))


def test_no_figure_outlives_its_render() -> None:
    """Figures are freed after each render, from any thread; resident memory over 2,000 charts is measured in
    benchmarks/charts.py (RSS inside a 1,000-test process says more about the other tests than about charts)."""
    from matplotlib.figure import Figure

    charts = [goal_chart(), stacked_chart(), ratio_chart(), totals_chart()]
    threads = []
    for i, chart in enumerate(charts * 2):
        if i % 3 == 0:  # some from short-lived threads, as the delivery job's pool calls it
            threads.append(threading.Thread(target=c.render, args=(chart,)))
            threads[-1].start()
        else:
            c.render(chart)
    for thread in threads:
        thread.join()
    gc.collect()
    assert not [o for o in gc.get_objects() if isinstance(o, Figure)], "figures outlive their render"


def test_text_tables_carry_the_same_numbers() -> None:
    goal = c.text_table(goal_chart())
    assert goal.splitlines()[0] == "G-3 双十一 GMV 冲刺 (天猫 + 京东)"
    assert "Nov 23  ¥847,500" in goal
    assert "Target: ¥1,200,000 (Deadline Nov 30, 2026)" in goal and "Projected: ¥1,017,000" in goal

    stacked = c.text_table(stacked_chart())
    lines = stacked.splitlines()
    # one row a week, the two largest channels, the rest summed into 其他, then the total
    assert lines[2].split() == ["周起始日", "天猫", "京东", "其他", "合计"], lines[2]
    assert lines[4].split()[0] == "10月5日" and lines[-1].startswith("合计")
    overall = stacked_chart().overall
    assert overall is not None and overall > 1_000_000
    assert lines[-1].split()[-1] == fmt_number(overall, "¥", ZH_CN).replace(" ", "")  # in 万, as Chinese writes it
    assert lines[-1].split()[-1].endswith("万")
    # columns line up in a monospace font: a hanzi takes two columns
    widths = {c.display_width(line) for line in lines[2:]}
    assert len(widths) == 1, lines

    ratio = c.text_table(ratio_chart())
    assert "Oct 5          300       10,000      3%" in ratio
    assert ratio.splitlines()[-1].split() == ["Period", "2,960", "83,500", "3.54%"]
    assert "转化率 = 订单 / 访客" in ratio

    totals = c.text_table(totals_chart())
    assert "拼多多" in totals and "4.1%" in totals and totals.splitlines()[-1].split() == ["Total", "3.11%"]


def test_format_table_aligns_wide_characters() -> None:
    table = c.format_table(["渠道", "GMV"], [["天猫", "¥1,000"], ["JD", "¥20"]])
    assert table.splitlines() == ["渠道     GMV", "----  ------", "天猫  ¥1,000", "JD       ¥20"]
    assert c.display_width("天猫ab") == 6


def test_importing_the_module_does_not_import_matplotlib() -> None:
    import subprocess
    import sys

    code = "import sys, bot.render.charts; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


# ---- axis tick labels: exactly where the gridlines are ---------------------------------------------------


@pytest.mark.parametrize(
    ("step", "places"),
    [(0.25, 2), (0.2, 1), (0.5, 1), (2.5, 1), (0.125, 3), (1.0, 0), (10.0, 0), (250000.0, 0),
     (0.30000000000000004 - 0.2, 1), (0.0625, 3)],  # 0.0625 would need 4: capped
)
def test_tick_decimals_come_from_the_steps_digits(step: float, places: int) -> None:
    assert c._decimals(step, 3) == places
    assert c._decimals(step * 1_000_000, 3) == 0
    assert c._decimals(0.0625, 4) == 4 and c._decimals(0.25, 2, [1.5, 0.75]) == 2 and c._decimals(0.5, 3, [0.25]) == 2


@pytest.mark.parametrize(
    ("unit", "ticks", "labels"),
    [
        ("¥", [i * 250_000 for i in range(9)],
         ["¥0", "¥0.25M", "¥0.5M", "¥0.75M", "¥1M", "¥1.25M", "¥1.5M", "¥1.75M", "¥2M"]),
        ("¥", [i * 200_000 for i in range(6)], ["¥0", "¥0.2M", "¥0.4M", "¥0.6M", "¥0.8M", "¥1M"]),
        ("¥", [i * 500_000 for i in range(5)], ["¥0", "¥0.5M", "¥1M", "¥1.5M", "¥2M"]),
        ("¥", [i * 125_000 for i in range(9)],
         ["¥0", "¥0.125M", "¥0.25M", "¥0.375M", "¥0.5M", "¥0.625M", "¥0.75M", "¥0.875M", "¥1M"]),
        ("¥", [i * 125_000 for i in range(5)], ["¥0", "¥125k", "¥250k", "¥375k", "¥500k"]),
        ("$", [i * 2_500 for i in range(7)], ["$0", "$2.5k", "$5k", "$7.5k", "$10k", "$12.5k", "$15k"]),
        ("¥", [i * 2.5e8 for i in range(5)], ["¥0", "¥0.25B", "¥0.5B", "¥0.75B", "¥1B"]),
        (None, [i * 10_000 for i in range(5)], ["0", "10k", "20k", "30k", "40k"]),
        (None, [0, 1, 2, 3], ["0", "1", "2", "3"]),
        (None, [0, 2000, 4000, 6000, 8000], ["0", "2,000", "4,000", "6,000", "8,000"]),
        (None, [4.5, 4.625, 4.75, 4.875, 5.0], ["4.5", "4.625", "4.75", "4.875", "5"]),
        (None, [0.1 * i for i in range(4)], ["0", "0.1", "0.2", "0.3"]),  # 0.30000000000000004
        ("%", [0.0025 * i for i in range(5)], ["0%", "0.25%", "0.5%", "0.75%", "1%"]),
        ("%", [0.028, 0.03, 0.032], ["2.8%", "3%", "3.2%"]),
        ("%", [0.0, 0.2, 0.4, 0.6], ["0%", "20%", "40%", "60%"]),
        ("¥", [-1_000_000, -500_000, 0, 500_000, 1_000_000], ["-¥1M", "-¥0.5M", "¥0", "¥0.5M", "¥1M"]),
        # a narrow range high up: millions would need 5 decimals, so the labels step down to thousands
        (None, [1_000_020, 1_000_040, 1_000_060], ["1,000.02k", "1,000.04k", "1,000.06k"]),
    ],
)
def test_tick_labels_name_every_gridline_exactly(unit: str | None, ticks: list[float], labels: list[str]) -> None:
    formatter = c._formatter(unit)
    assert formatter.format_ticks(ticks) == labels


def _label_value(label: str, unit: str | None) -> float:
    text = label.replace(",", "").replace(unit or "\0", "")
    if unit == "%":
        return float(text.rstrip("%")) / 100
    scale = {"k": 1e3, "M": 1e6, "B": 1e9, "万": 1e4, "亿": 1e8}.get(text[-1:], 1.0)
    return float(text.rstrip("kMB万亿")) * scale


TICK_SAMPLES = {
    **{name: SAMPLES[name] for name in ("goal", "goal_ratio", "goal_no_baseline", "breakdown", "ratio", "ratio_daily")},
    "goal_2m": lambda: goal_chart(target=D(2_000_000), projected=None),
    "goal_quarter_percent": lambda: goal_chart(
        unit="%", baseline=D("0.0"), target=D("0.01"),
        actual=[D("0.0003") * i for i in range(35)], projected=None,
    ),
}


@pytest.mark.parametrize("name", sorted(TICK_SAMPLES))
def test_rendered_axis_labels_match_their_gridlines(name: str) -> None:
    """Draw the chart, then read each y tick back: its label must say the gridline's value, and no two alike."""
    data = TICK_SAMPLES[name]()
    seen: list[tuple[float, str]] = []
    draw = {c.GoalChart: c._draw_goal, c.BreakdownChart: c._draw_breakdown, c.RatioChart: c._draw_ratio}[type(data)]

    def draw_and_read(fig: object, ax: object, chart: object) -> None:
        draw(fig, ax, chart)  # type: ignore[arg-type]
        fig.canvas.draw()  # type: ignore[attr-defined]
        low, high = ax.get_ylim()  # type: ignore[attr-defined]
        seen.extend(
            (float(tick), label.get_text())
            for tick, label in zip(ax.get_yticks(), ax.get_yticklabels(), strict=True)  # type: ignore[attr-defined]
            if low <= tick <= high
        )

    save(f"ticks_{name}", c._render_here(data, draw_and_read))
    assert len(seen) >= 3, seen
    step = min(b - a for (a, _), (b, _) in pairwise(seen))
    labels = [label for _, label in seen]
    assert len(set(labels)) == len(labels), labels
    for tick, label in seen:
        assert _label_value(label, data.unit) == pytest.approx(tick, abs=step * 1e-6), (tick, label, labels)
    if name == "goal_2m":
        assert labels == ["¥0", "¥0.5M", "¥1M", "¥1.5M", "¥2M"]  # few ticks: legible at Slack's preview size


def test_a_channel_keeps_its_colour_in_every_chart() -> None:
    order = ["天猫", "JD", "抖音", "email"]
    first = c.channel_colors(["抖音", "天猫"], order)
    second = c.channel_colors(["jd", "抖音", "天猫", "email"], order)
    assert first["抖音"] == second["抖音"] == c.PALETTE[2] and first["天猫"] == second["天猫"] == c.PALETTE[0]
    assert second["jd"] == c.PALETTE[1], "matched as the channel it is, whatever its case"
    unknown = c.channel_colors(["天猫", "new shop"], order)
    assert unknown["new shop"] not in (unknown["天猫"],), "a channel not on record still gets a colour of its own"


def test_breakdowns_carry_the_workspaces_channel_order(db: Database, workspace: str) -> None:
    with db.session() as s:
        for channel, value in (("JD", 5), ("天猫", 900), ("抖音", 40)):
            kpis.log_value(s, workspace_id=workspace, metric_name="gmv", value=D(value), percent=False, channel=channel,
                           day=date(2026, 11, 2), user_id="U1")
        kpis.log_value(s, workspace_id=workspace, metric_name="gmv", value=D(7), percent=False, channel="jd",
                       day=date(2026, 11, 3), user_id="U1")
    with db.session(write=False) as s:
        metric = kpis.get_metric(s, workspace_id=workspace, name_or_number="gmv")
        breakdown = an.channel_breakdown(s, workspace_id=workspace, metric=metric, start=date(2026, 11, 1),
                                         end=date(2026, 11, 30))
    assert breakdown.workspace_channels == ("JD", "天猫", "抖音")
    chart = c.BreakdownChart.from_breakdown(breakdown)
    assert c.channel_colors(list(chart.values), chart.channel_order)["JD"] == c.PALETTE[0]


def test_chinese_charts_write_amounts_in_wan_and_yi() -> None:
    """¥5,400万 rather than ¥54.0M on a chart drawn with the Chinese labels; the English one keeps M."""
    seen: dict[str, list[str]] = {}

    def reader(name: str) -> object:
        def draw_and_read(fig: object, ax: object, chart: object) -> None:
            c._draw_goal(fig, ax, chart)  # type: ignore[arg-type]
            fig.canvas.draw()  # type: ignore[attr-defined]
            seen[name] = [label.get_text() for label in ax.get_yticklabels()]  # type: ignore[attr-defined]
            seen[name + " legend"] = [t.get_text() for t in ax.get_legend().get_texts()]  # type: ignore[attr-defined]
        return draw_and_read

    zh = goal_chart(target=D(54_000_000), projected=D(60_000_000), labels=c.ChartLabels.zh())
    c._render_here(zh, reader("zh"))  # type: ignore[arg-type]
    en = goal_chart(target=D(54_000_000), projected=D(60_000_000))
    c._render_here(en, reader("en"))  # type: ignore[arg-type]
    assert any("万" in t for t in seen["zh"]) and not any("M" in t for t in seen["zh"]), seen["zh"]
    assert any("5,400万" in t for t in seen["zh legend"]), seen["zh legend"]
    # a legend line and its figure are written as the language writes them: 目标¥5,400万, Target ¥54M
    assert any(t.startswith(("目标¥", "预计¥")) for t in seen["zh legend"]), seen["zh legend"]
    assert not any(" ¥" in t for t in seen["zh legend"]), seen["zh legend"]
    assert any("M" in t for t in seen["en"]) and not any("万" in t for t in seen["en"]), seen["en"]


def test_the_whole_period_reads_as_the_language_writes_it() -> None:
    """A Chinese chart names the whole period 全期 (its ratio row and its line in the legend, no space before the
    number) and a monthly table's first column 月份; the English ones keep Period and Month."""
    legends: dict[str, list[str]] = {}

    def reader(name: str) -> object:
        def draw_and_read(fig: object, ax: object, chart: object) -> None:
            c._draw_ratio(fig, ax, chart)  # type: ignore[arg-type]
            legends[name] = [t.get_text() for t in ax.get_legend().get_texts()]  # type: ignore[attr-defined]
        return draw_and_read

    c._render_here(ratio_chart(labels=c.ChartLabels.zh()), reader("zh"))  # type: ignore[arg-type]
    c._render_here(ratio_chart(), reader("en"))  # type: ignore[arg-type]
    assert "全期3.54%" in legends["zh"], legends["zh"]
    assert "Period 3.54%" in legends["en"], legends["en"]

    zh_ratio = c.text_table(ratio_chart(labels=c.ChartLabels.zh()))
    assert zh_ratio.splitlines()[-1].split() == ["全期", "2,960", "83,500", "3.54%"]
    assert "整期" not in zh_ratio

    months = [date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1)]
    monthly = {"天猫": [D(1000), D(2000), D(3000)], "京东": [D(500), D(600), D(700)]}
    for labels, first in ((c.ChartLabels.zh(), "月份"), (c.ChartLabels.of("en"), "Month")):
        table = c.text_table(stacked_chart(periods=months, values=monthly, freq="M", labels=labels,
                                           totals={ch: sum(v, D(0)) for ch, v in monthly.items()}))
        assert table.splitlines()[2].split()[0] == first, table


@pytest.mark.parametrize("locale", ["en", "zh"])
def test_period_labels_never_run_into_each_other(locale: str) -> None:
    """30 daily bars and six channels (the legend beside the plot narrows it): the labels left are apart."""
    days = [date(2026, 11, 1) + timedelta(days=i) for i in range(30)]
    channels = ["天猫旗舰店", "JD self-operated", "抖音直播间", "email newsletter", "paid search", "小红书"]
    chart = c.BreakdownChart(
        title="gmv by channel", unit="¥", periods=days, freq="D",
        values={ch: [D(100_000 + 1_000 * i) for i in range(30)] for ch in channels},
        totals={ch: D(3_000_000) for ch in channels}, channel_order=channels,
        references=[("G-1 pace/day", D("923080.77"))], partial=[False] * 29 + [True],
        labels=c.ChartLabels.zh() if locale == "zh" else c.ChartLabels(),
    )
    boxes: list[tuple[float, float]] = []

    def draw_and_read(fig: object, ax: object, data: object) -> None:
        c._draw_breakdown(fig, ax, data)  # type: ignore[arg-type]
        c._fit(fig, ax)  # type: ignore[arg-type]
        renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
        boxes.extend((b.x0, b.x1) for b in (t.get_window_extent(renderer) for t in ax.get_xticklabels())  # type: ignore[attr-defined]
                     if b.width > 0)

    c._render_here(chart, draw_and_read)  # type: ignore[arg-type]
    assert len(boxes) >= 3, boxes  # thinned, not emptied
    assert all(a[1] < b[0] for a, b in pairwise(boxes)), boxes
