"""KPI report charts: plain data in, PNG bytes out (matplotlib Agg, CJK labels), with a text-table fallback."""

# Matplotlib is imported on first render, not with this module, so importing it costs nothing at start-up.
# Every render builds its own Figure (no pyplot and its global figure registry, which leaks in a
# long-running process) on one dedicated worker thread: matplotlib is not thread-safe, and it caches
# font objects per thread, so rendering from the delivery job's changing pool threads would grow memory
# with every new thread. Style and fonts are applied with rc_context for the duration of a render, so
# the process-wide rcParams are never changed. Chinese labels use WenQuanYi Micro Hei, shipped by the
# paperang-p2-fonts-cjk wheel (Apache-2.0, all 6,763 GB2312 hanzi), as a per-glyph fallback behind
# DejaVu Sans, so Latin text and digits keep matplotlib's usual look.

from __future__ import annotations

import contextvars
import io
import math
import threading
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from importlib import resources
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.i18n import EN, ZH_CN
from bot.i18n.fmt import fmt_number, with_currency

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from bot.analytics import Breakdown, GoalSeries, RatioTrend

CJK_FONT_PACKAGE = "paperang_p2_fonts_cjk"
CJK_FONT_FILE = "fonts/wqy-microhei.ttc"
CJK_FAMILY = "WenQuanYi Micro Hei"
LATIN_FAMILY = "DejaVu Sans"
FONT_FAMILIES = [LATIN_FAMILY, CJK_FAMILY]

# One palette for every chart: colour-blind-safe hues (Okabe-Ito order), then greys for "other".
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
OTHER_COLOR = "#B0B7C3"
ACTUAL_COLOR = PALETTE[0]
PACE_COLOR = "#6B7280"
TARGET_COLOR = "#D55E00"
PROJECTION_COLOR = "#E69F00"
TEXT_COLOR = "#1F2937"
MUTED_COLOR = "#6B7280"

# 1200 x 675 px, drawn on a small page so that text stays legible where Slack shows it at 360-560 px wide
WIDTH_IN, HEIGHT_IN, DPI = 6.0, 3.375, 200
MAX_STACKED_CHANNELS = 7  # more channels than this: the smallest are summed into "Other"
TITLE_WIDTH = 50  # display columns (a hanzi is two) before a title is cut with "…"
LEGEND_LABEL_WIDTH = 22

_FONTS_LOCK = threading.Lock()
_fonts_ready = False
_worker: ThreadPoolExecutor | None = None

_RC: Any = {  # typed loosely: matplotlib types rc keys as a closed Literal set
    "font.family": FONT_FAMILIES,
    "font.size": 10.5,
    "axes.titlesize": 13,
    "axes.edgecolor": "#9CA3AF",
    "axes.labelcolor": TEXT_COLOR,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.grid.axis": "y",
    "axes.axisbelow": True,
    "grid.color": "#E5E7EB",
    "grid.linewidth": 0.8,
    "xtick.color": "#4B5563",
    "ytick.color": "#4B5563",
    "xtick.labelsize": 9.5,
    "ytick.labelsize": 9.5,
    "legend.frameon": False,
    "legend.fontsize": 9.5,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
}


class ChartError(Exception):
    """A chart could not be drawn; the caller posts text_table(...) of the same data instead."""


class NoChartData(ChartError):
    """There is nothing to plot: no value at all in the series (documented choice: no empty "no data" chart)."""


@dataclass(frozen=True)
class ChartLabels:
    """Every word a chart draws besides user-typed names: pass another language's set."""

    actual: str = "Actual"
    target: str = "Target"
    pace: str = "Pace"
    projected: str = "Projected"
    deadline: str = "Deadline"
    total: str = "Total"
    other: str = "Other"
    no_channel: str = "(no channel)"
    period: str = "Period"
    week_of: str = "Week of"
    day: str = "Day"
    channel: str = "Channel"
    numerator: str = "Numerator"
    denominator: str = "Denominator"
    value: str = "Value"
    from_parts: str = "computed from summed parts"
    partial: str = "partial period (hatched)"
    # the text table's closing lines (their punctuation is the language's too)
    target_line: str = "{target}: {value} ({deadline} {date})"
    projected_line: str = "{projected}: {value}"
    cjk_units: bool = False  # amounts in 万 and 亿 rather than k, M and B

    @classmethod
    def zh(cls) -> ChartLabels:
        return cls(
            actual="实际",
            target="目标",
            pace="进度线",
            projected="预计",
            deadline="截止",
            total="合计",
            other="其他",
            no_channel="（无渠道）",
            period="整期",
            week_of="周",
            day="日期",
            channel="渠道",
            numerator="分子",
            denominator="分母",
            value="数值",
            from_parts="按分子分母汇总计算",
            partial="不完整周期（斜线）",
            target_line="{target}：{value}（{deadline} {date}）",
            projected_line="{projected}：{value}",
            cjk_units=True,
        )


# ---------------------------------------------------------------------------------------------------------
# Chart data


@dataclass(frozen=True)
class GoalChart:
    """A goal's actual-to-date line against its target, pace line and deadline, with the projection."""

    title: str
    unit: str | None
    start: date
    deadline: date
    target: Decimal
    days: Sequence[date]
    actual: Sequence[Decimal | None]  # one per day; None where nothing is logged yet
    # the pace line's two ends (analytics.pace_path, on bot.metrics.pace_at); None: the target line alone
    pace: tuple[tuple[date, Decimal], tuple[date, Decimal]] | None = None
    projected: Decimal | None = None  # drawn from the last actual point to the deadline
    subtitle: str = ""
    labels: ChartLabels = field(default_factory=ChartLabels)
    generated_on: date | None = None
    footer: str | None = None

    @classmethod
    def from_series(
        cls,
        series: GoalSeries,
        *,
        title: str | None = None,
        subtitle: str | None = None,
        labels: ChartLabels | None = None,
        generated_on: date | None = None,
    ) -> GoalChart:
        channel = f" · {series.channel}" if series.channel else ""
        return cls(
            title=title if title is not None else f"G-{series.number} {series.title}",
            subtitle=subtitle if subtitle is not None else f"{series.metric.name}{channel}",
            unit=series.metric.unit,
            start=series.start,
            deadline=series.deadline,
            target=series.target,
            # a total, or a level lifted from a baseline, is due step by step; a level held to its target from the
            # start is paced against the target line itself (bot.metrics), so it gets no pace line
            pace=_pace_ends(series),
            days=[p.day for p in series.actual],
            actual=[p.value for p in series.actual],
            projected=series.projected if series.kind == "cumulative" else None,
            labels=labels or ChartLabels(),
            generated_on=generated_on or series.as_of,
        )


def _pace_ends(series: GoalSeries) -> tuple[tuple[date, Decimal], tuple[date, Decimal]] | None:
    if series.pace is None:
        return None
    first, last = series.pace
    if first.value is None or last.value is None:
        return None
    return (first.day, first.value), (last.day, last.value)


@dataclass(frozen=True)
class BreakdownChart:
    """A metric by channel: stacked bars per period when values add up, else one bar per channel's total."""

    title: str
    unit: str | None
    periods: Sequence[date]  # bucket starts (stacked mode)
    values: Mapping[str, Sequence[Decimal | None]]  # channel -> one value per period (stacked mode)
    totals: Mapping[str, Decimal | None]  # channel -> period value (horizontal mode, and the table)
    stacked: bool = True
    freq: str = "W"  # D | W | M: how period labels read
    overall: Decimal | None = None  # all channels together, drawn as a reference line in horizontal mode
    # the workspace's channels in the order first logged: channel i is always PALETTE[i] (see channel_colors)
    channel_order: Sequence[str] = ()
    # goals on this metric, as lines: (label, value per period), e.g. ("G-3 pace", ¥70,000 a week)
    references: Sequence[tuple[str, Decimal]] = ()
    partial: Sequence[bool] = ()  # per period: not every day of it is in the chart, or over yet
    subtitle: str = ""
    labels: ChartLabels = field(default_factory=ChartLabels)
    generated_on: date | None = None
    footer: str | None = None

    @classmethod
    def from_breakdown(
        cls,
        breakdown: Breakdown,
        *,
        title: str | None = None,
        subtitle: str | None = None,
        labels: ChartLabels | None = None,
        generated_on: date | None = None,
    ) -> BreakdownChart:
        return cls(
            title=title if title is not None else breakdown.metric.name,
            subtitle=subtitle if subtitle is not None else f"{breakdown.start} – {breakdown.end}",
            unit=breakdown.metric.unit,
            periods=breakdown.periods,
            values=breakdown.values,
            totals=breakdown.totals,
            stacked=breakdown.stackable,
            freq=breakdown.freq,
            overall=breakdown.total,
            channel_order=breakdown.workspace_channels,
            labels=labels or ChartLabels(),
            generated_on=generated_on or breakdown.end,
        )


@dataclass(frozen=True)
class RatioChart:
    """A ratio KPI per period, each point numerator sum / denominator sum; the formula goes in the subtitle."""

    title: str
    unit: str | None
    formula: str  # e.g. "转化率 = 订单 / 访客"
    periods: Sequence[date]
    values: Sequence[Decimal | None]
    numerators: Sequence[Decimal | None] = ()
    denominators: Sequence[Decimal | None] = ()
    overall: Decimal | None = None  # the whole period, from its summed parts
    overall_numerator: Decimal | None = None
    overall_denominator: Decimal | None = None
    freq: str = "W"
    references: Sequence[tuple[str, Decimal]] = ()  # goal targets on this ratio, as lines
    partial: Sequence[bool] = ()
    labels: ChartLabels = field(default_factory=ChartLabels)
    generated_on: date | None = None
    footer: str | None = None

    @classmethod
    def from_trend(
        cls,
        trend: RatioTrend,
        *,
        title: str | None = None,
        labels: ChartLabels | None = None,
        generated_on: date | None = None,
    ) -> RatioChart:
        return cls(
            title=title if title is not None else trend.metric.name,
            unit=trend.metric.unit,
            formula=f"{trend.metric.name} = {trend.numerator.name} / {trend.denominator.name}",
            periods=[b.start for b in trend.buckets],
            values=[b.value for b in trend.buckets],
            numerators=[b.numerator for b in trend.buckets],
            denominators=[b.denominator for b in trend.buckets],
            overall=trend.overall.value,
            overall_numerator=trend.overall.numerator,
            overall_denominator=trend.overall.denominator,
            freq=trend.freq,
            labels=labels or ChartLabels(),
            generated_on=generated_on or trend.end,
        )


Chart = GoalChart | BreakdownChart | RatioChart


# ---------------------------------------------------------------------------------------------------------
# Fonts


def cjk_font_path() -> Path:
    """The CJK font file the charts register; ChartError if its package is not installed."""
    try:
        path = Path(str(resources.files(CJK_FONT_PACKAGE).joinpath(CJK_FONT_FILE)))
    except ModuleNotFoundError as exc:
        raise ChartError(
            f"the CJK font package is missing: pip install {CJK_FONT_PACKAGE.replace('_', '-')}"
        ) from exc
    if not path.is_file():
        raise ChartError(f"the CJK font file is missing: {path}")
    return path


def ensure_fonts() -> None:
    """Register the CJK font with matplotlib once per process."""
    global _fonts_ready
    if _fonts_ready:
        return
    with _FONTS_LOCK:
        if _fonts_ready:
            return
        from matplotlib import font_manager

        font_manager.fontManager.addfont(str(cjk_font_path()))
        _fonts_ready = True


@cache
def _charmaps() -> tuple[frozenset[int], ...]:
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    ensure_fonts()
    maps = []
    for family in FONT_FAMILIES:
        path = font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)
        maps.append(frozenset(FT2Font(path).get_charmap()))
    return tuple(maps)


def has_glyph(char: str) -> bool:
    return char.isspace() or any(ord(char) in cmap for cmap in _charmaps())


def drawable(text: str) -> str:
    """User text as drawn: characters no bundled font has (emoji, rare symbols) are left out, never boxes."""
    kept = "".join(ch for ch in text if has_glyph(ch) or unicodedata.category(ch) in ("Mn", "Cf"))
    return kept.replace("$", r"\$")  # a "$" pair would start mathtext


# ---------------------------------------------------------------------------------------------------------
# Rendering


def render(chart: Chart) -> bytes:
    """PNG bytes of any chart; NoChartData when there is nothing to plot, ChartError when drawing fails."""
    if isinstance(chart, GoalChart):
        return goal_chart(chart)
    if isinstance(chart, BreakdownChart):
        return breakdown_chart(chart)
    return ratio_chart(chart)


def goal_chart(data: GoalChart) -> bytes:
    if len(data.days) != len(data.actual):
        raise ChartError(f"{len(data.days)} days but {len(data.actual)} values")
    if all(v is None for v in data.actual):
        raise NoChartData(f"no values for {data.title!r} yet")
    return _render(data, _draw_goal)


def breakdown_chart(data: BreakdownChart) -> bytes:
    if data.stacked:
        for channel, values in data.values.items():
            if len(values) != len(data.periods):
                raise ChartError(f"{channel!r} has {len(values)} values for {len(data.periods)} periods")
        if not any(v for values in data.values.values() for v in values):
            raise NoChartData(f"no values for {data.title!r}")
    elif all(v is None for v in data.totals.values()):
        raise NoChartData(f"no values for {data.title!r}")
    return _render(data, _draw_breakdown)


def ratio_chart(data: RatioChart) -> bytes:
    if len(data.periods) != len(data.values):
        raise ChartError(f"{len(data.periods)} periods but {len(data.values)} values")
    if all(v is None for v in data.values):
        raise NoChartData(f"no values for {data.title!r}")
    return _render(data, _draw_ratio)


def _render(data: Any, draw: Callable[[Figure, Axes, Any], None]) -> bytes:
    global _worker
    if _worker is None:
        with _FONTS_LOCK:
            if _worker is None:
                _worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mktbot-charts")
    return _worker.submit(_render_here, data, draw).result()


def _render_here(data: Any, draw: Callable[[Figure, Axes, Any], None]) -> bytes:
    try:
        import matplotlib
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        ensure_fonts()
        _charmaps()
        labels = getattr(data, "labels", None)
        token = _SCALES.set(_CJK_SCALES if getattr(labels, "cjk_units", False) else _TICK_SCALES)
        try:
            with matplotlib.rc_context(_RC):
                fig = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI)
                FigureCanvasAgg(fig)
                ax = fig.add_axes((0.11, 0.27, 0.86, 0.54))  # legend under the plot, title above it
                draw(fig, ax, data)
                _frame_text(fig, data)
                buffer = io.BytesIO()
                fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": "mktbot"})
                fig.clear()
        finally:
            _SCALES.reset(token)
        return buffer.getvalue()
    except ChartError:
        raise
    except Exception as exc:
        raise ChartError(
            f"could not draw {type(data).__name__} {getattr(data, 'title', '')!r}: {exc}"
        ) from exc


def _frame_text(fig: Figure, data: Any) -> None:
    fig.text(
        0.02,
        0.955,
        drawable(_clip(data.title, TITLE_WIDTH)),
        size=14,  # regular weight: the CJK font has no bold, and mixed weights in one title look broken
        color=TEXT_COLOR,
        va="top",
    )
    subtitle = (
        data.subtitle if not isinstance(data, RatioChart) else f"{data.formula} · {data.labels.from_parts}"
    )
    if subtitle:
        fig.text(
            0.02, 0.885, drawable(_clip(subtitle, TITLE_WIDTH + 22)), size=10, color=MUTED_COLOR, va="top"
        )
    footer = data.footer or (f"mktbot · {data.generated_on.isoformat()}" if data.generated_on else "mktbot")
    fig.text(0.98, 0.015, drawable(footer), size=8, color="#9CA3AF", ha="right", va="bottom")


def _legend_under(ax: Axes, ncol: int) -> None:
    """The legend in one or two rows under the plot, where it never covers a line or a bar."""
    handles, _ = ax.get_legend_handles_labels()
    ncol = max(1, min(ncol, 4, len(handles)))
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=ncol, borderaxespad=0.0, handlelength=1.6,
              columnspacing=1.2)


def _draw_goal(fig: Figure, ax: Axes, data: GoalChart) -> None:
    import matplotlib.dates as mdates

    labels, unit = data.labels, data.unit
    xs = [float(x) for x in mdates.date2num(list(data.days))]
    values = [_f(v) for v in data.actual]
    known = [(x, v) for x, v in zip(xs, data.actual, strict=True) if v is not None]
    last_x, last_value = known[-1]
    deadline_x = float(mdates.date2num(data.deadline))
    ax.plot(
        xs,
        values,
        color=ACTUAL_COLOR,
        linewidth=2.2,
        label=f"{labels.actual} {_short(last_value, unit)}",
        zorder=4,
    )
    ax.plot([last_x], [_f(last_value)], marker="o", color=ACTUAL_COLOR, markersize=5, zorder=5)
    if data.pace is not None:
        (from_day, from_value), (to_day, to_value) = data.pace
        ax.plot(
            [float(mdates.date2num(from_day)), float(mdates.date2num(to_day))],
            [_f(from_value), _f(to_value)],
            color=PACE_COLOR,
            linestyle=(0, (5, 3)),
            linewidth=1.3,
            label=labels.pace,
            zorder=2,
        )
    ax.axhline(_f(data.target), color=TARGET_COLOR, linewidth=1.2, linestyle=":", zorder=2)
    ax.plot([], [], color=TARGET_COLOR, linestyle=":", label=f"{labels.target} {_short(data.target, unit)}")
    ax.axvline(deadline_x, color=PACE_COLOR, linewidth=0.9, zorder=1)
    ax.annotate(
        f"{labels.deadline} {data.deadline:%m-%d}",
        xy=(deadline_x, 1.0),
        xycoords=("data", "axes fraction"),
        xytext=(-3, -2),
        textcoords="offset points",
        ha="right",
        va="top",
        size=8,
        color=MUTED_COLOR,
    )
    if data.projected is not None:
        ax.plot(
            [last_x, deadline_x],
            [_f(last_value), _f(data.projected)],
            color=PROJECTION_COLOR,
            linestyle=(0, (1, 2)),
            linewidth=1.6,
            zorder=3,
        )
        ax.plot(
            [deadline_x],
            [_f(data.projected)],
            marker="D",
            markersize=6,
            color=PROJECTION_COLOR,
            linestyle="none",
            label=f"{labels.projected} {_short(data.projected, unit)}",
            zorder=5,
        )
    ax.set_xlim(
        mdates.date2num(data.start - timedelta(days=1)), mdates.date2num(data.deadline + timedelta(days=2))
    )
    pace_values = [_f(v) for _, v in data.pace] if data.pace else []
    span = [v for v in (*values, _f(data.target), *pace_values, _f(data.projected)) if v == v]
    _y_range(ax, span, unit)
    locator = mdates.AutoDateLocator(minticks=3, maxticks=6)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, show_offset=False))
    _legend_under(ax, ncol=4)


def channel_colors(channels: Sequence[str], order: Sequence[str]) -> dict[str, str]:
    """One colour per channel that stays the same in every chart of a workspace: the n-th channel the workspace
    ever logged gets PALETTE[n]. A channel missing from `order` takes the first colour no other channel here has."""
    rank = {name.casefold(): i for i, name in enumerate(order)}
    colors: dict[str, str] = {}
    for channel in channels:
        if channel.casefold() in rank:
            colors[channel] = PALETTE[rank[channel.casefold()] % len(PALETTE)]
    for channel in channels:
        if channel not in colors:
            free = [c for c in PALETTE if c not in colors.values()] or list(PALETTE)
            colors[channel] = free[0]
    return colors


def _reference_lines(ax: Axes, references: Sequence[tuple[str, Decimal]], unit: str | None) -> None:
    """A goal's line on a KPI chart: its target level, or its pace per period for a total."""
    for i, (label, value) in enumerate(references[:3]):
        ax.axhline(_f(value), color=TARGET_COLOR if i == 0 else PACE_COLOR, linestyle=(0, (5, 3)), linewidth=1.3,
                   zorder=5, label=_legend_text(f"{label} {_short(value, unit)}", 30))


def _draw_breakdown(fig: Figure, ax: Axes, data: BreakdownChart) -> None:
    if data.stacked:
        _draw_stacked(ax, data)
    else:
        _draw_totals(ax, data)


def _draw_stacked(ax: Axes, data: BreakdownChart) -> None:
    labels = data.labels
    channels = sorted(data.values, key=lambda ch: -sum(_f(v, 0.0) for v in data.values[ch]))
    shown, rest = channels[:MAX_STACKED_CHANNELS], channels[MAX_STACKED_CHANNELS:]
    if len(rest) == 1:
        shown, rest = channels, []
    n = len(data.periods)
    positions = list(range(n))
    bottoms = [0.0] * n
    colors = channel_colors(shown, data.channel_order or channels)
    series = [(ch, [_f(v, 0.0) for v in data.values[ch]], colors[ch]) for ch in shown]
    if rest:
        summed = [sum(_f(data.values[ch][i], 0.0) for ch in rest) for i in range(n)]
        series.append((labels.other, summed, OTHER_COLOR))
    width = 0.66 if n > 1 else 0.4
    partial = list(data.partial) if len(data.partial) == n else [False] * n
    for name, heights, color in series:
        label = labels.no_channel if name == "" else name
        bars = ax.bar(positions, heights, width, bottom=bottoms, color=color, label=_legend_text(label), linewidth=0)
        for bar, is_partial in zip(bars, partial, strict=True):
            if is_partial:  # a period not over (or cut by the range): lighter, hatched, never read as a full one
                bar.set_alpha(0.45)
                bar.set_hatch("///")
        bottoms = [b + h for b, h in zip(bottoms, heights, strict=True)]
    _reference_lines(ax, data.references, data.unit)
    if n <= 16:
        for x, total in zip(positions, bottoms, strict=True):
            if total:
                ax.annotate(
                    _compact(total, data.unit),
                    (x, total),
                    xytext=(0, 2),
                    textcoords="offset points",
                    ha="center",
                    va="bottom",
                    size=8.5,
                    color=TEXT_COLOR,
                )
    _period_axis(ax, data.periods, data.freq)
    _y_range(ax, [0.0, *bottoms, *(_f(v) for _, v in data.references)], data.unit, headroom=0.12)
    if any(partial):
        ax.bar([], [], color="#9CA3AF", alpha=0.45, hatch="///", label=labels.partial)
    if len(series) + len(data.references[:3]) <= 4:
        _legend_under(ax, ncol=4)
    else:  # one row would overflow into the subtitle: a column at the right instead, top channel first
        ax.set_position((0.11, 0.15, 0.66, 0.66))
        handles, names = ax.get_legend_handles_labels()
        ax.legend(handles[::-1], names[::-1], loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)


def _draw_totals(ax: Axes, data: BreakdownChart) -> None:
    labels = data.labels
    items = [(ch, v) for ch, v in data.totals.items() if v is not None]
    items.sort(key=lambda item: item[1])
    items = items[-12:]  # the twelve largest; the table has every channel
    names = [_legend_text(labels.no_channel if ch == "" else ch, 18) for ch, _ in items]
    values = [_f(v) for _, v in items]
    by_channel = channel_colors([ch for ch, _ in items], data.channel_order or [ch for ch, _ in items[::-1]])
    colors = [by_channel[ch] for ch, _ in items]
    positions = list(range(len(items)))
    ax.barh(positions, values, 0.6, color=colors, linewidth=0)
    ax.set_yticks(positions, names)
    ax.grid(axis="y", visible=False)
    ax.grid(axis="x", visible=True)
    for y, (_, value) in zip(positions, items, strict=True):
        ax.annotate(
            fmt_number(value, data.unit, EN),
            (_f(value), y),
            xytext=(3, 0),
            textcoords="offset points",
            va="center",
            size=8,
            color=TEXT_COLOR,
            bbox={"boxstyle": "square,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.85},
            zorder=4,
        )
    low = min(0.0, *values)
    high = max(0.0, *values, _f(data.overall, 0.0))
    ax.set_xlim(low, high * 1.18 if high > 0 else 1.0)
    ax.xaxis.set_major_formatter(_formatter(data.unit))
    if data.overall is not None:
        ax.axvline(_f(data.overall), color=TARGET_COLOR, linestyle=":", linewidth=1.2)
        ax.plot(
            [],
            [],
            color=TARGET_COLOR,
            linestyle=":",
            label=f"{labels.total} {fmt_number(data.overall, data.unit, EN)}",
        )
        _legend_under(ax, ncol=1)
    ax.set_position((0.2, 0.15, 0.77, 0.64))


def _draw_ratio(fig: Figure, ax: Axes, data: RatioChart) -> None:
    labels = data.labels
    positions = list(range(len(data.periods)))
    values = [_f(v) for v in data.values]
    ax.plot(
        positions,
        values,
        color=ACTUAL_COLOR,
        linewidth=2.0,
        marker="o",
        markersize=4.5,
        label=data.title,
        zorder=3,
    )
    if len(positions) <= 14:
        for x, value in zip(positions, data.values, strict=True):
            if value is not None:
                ax.annotate(
                    fmt_number(value, data.unit, EN),
                    (x, _f(value)),
                    xytext=(0, 6),
                    textcoords="offset points",
                    ha="center",
                    size=8.5,
                    color=TEXT_COLOR,
                )
    if data.overall is not None:
        ax.axhline(_f(data.overall), color=TARGET_COLOR, linestyle=":", linewidth=1.2, zorder=2)
        ax.plot(
            [],
            [],
            color=TARGET_COLOR,
            linestyle=":",
            label=f"{labels.period} {fmt_number(data.overall, data.unit, EN)}",
        )
    partial = list(data.partial) if len(data.partial) == len(positions) else []
    hollow = [(x, _f(v)) for x, v, p in zip(positions, data.values, partial, strict=False) if p and v is not None]
    if hollow:  # a period not over yet: an open marker, not a full point
        ax.plot([x for x, _ in hollow], [y for _, y in hollow], linestyle="none", marker="o", markersize=7,
                markerfacecolor="white", markeredgecolor=ACTUAL_COLOR, zorder=4, label=labels.partial)
    _reference_lines(ax, data.references, data.unit)
    _period_axis(ax, data.periods, data.freq)
    span = [v for v in (*values, _f(data.overall), *(_f(v) for _, v in data.references)) if v == v]
    _y_range(ax, span, data.unit, headroom=0.15, floor_zero=True)
    _legend_under(ax, ncol=3)


# ---------------------------------------------------------------------------------------------------------
# Axes and number formats


def _f(value: Decimal | float | None, missing: float = float("nan")) -> float:
    return missing if value is None else float(value)


def _period_axis(ax: Axes, periods: Sequence[date], freq: str) -> None:
    n = len(periods)
    step = max(1, -(-n // 10))  # at most ten labels
    fmt = {"M": "%Y-%m", "D": "%m-%d"}.get(freq, "%m-%d")
    ticks = list(range(0, n, step))
    ax.set_xticks(ticks, [periods[i].strftime(fmt) for i in ticks])
    ax.set_xlim(-0.6, n - 0.4)
    ax.grid(axis="x", visible=False)


def _y_range(
    ax: Axes, values: Sequence[float], unit: str | None, *, headroom: float = 0.08, floor_zero: bool = False
) -> None:
    finite = [v for v in values if v == v]
    low, high = (min(finite), max(finite)) if finite else (0.0, 1.0)
    # Start the axis at zero unless the values sit far above it (a rate between 2.5 % and 3.2 %).
    if floor_zero or 0 <= low <= high * 0.5:
        low = min(low, 0.0)
    if high == low:
        high = low + (abs(low) or 1.0)
    pad = (high - low) * headroom
    ax.set_ylim(low if low == 0 else low - pad, high + pad)
    ax.yaxis.set_major_formatter(_formatter(unit))


def _formatter(unit: str | None) -> Any:
    return _tick_formatter_class()(unit)


@cache
def _tick_formatter_class() -> type:
    from matplotlib.ticker import Formatter

    class TickFormatter(Formatter):  # type: ignore[misc]
        """Tick labels that say exactly where each gridline is: ¥0.25M, ¥0.5M, ¥0.75M; 2.8%, 3%, 3.2%; 40k."""

        def __init__(self, unit: str | None) -> None:
            self.unit = unit
            self.step, self.size = 1.0, 1.0
            self.ticks: tuple[float, ...] = ()

        def format_ticks(self, values: Sequence[float]) -> list[str]:
            ticks = sorted(values)
            self.step = min(
                (b - a for a, b in pairwise(ticks) if b > a), default=abs(ticks[0]) if ticks else 1.0
            )
            self.size = max((abs(v) for v in ticks), default=1.0)
            self.ticks = tuple(ticks)
            return _tick_labels(list(values), self.unit, self.step, self.size)

        def __call__(self, x: float, pos: int | None = None) -> str:
            return _tick_labels([x], self.unit, self.step, self.size, others=self.ticks)[0]

    return TickFormatter


#: (size from which a scale is used, divisor, suffix), largest first
_TICK_SCALES = ((1e9, 1e9, "B"), (1e6, 1e6, "M"), (1e4, 1e3, "k"), (0.0, 1.0, ""))
#: the same in Chinese: ¥5,400万 and 1.2亿, as a Chinese team writes amounts
_CJK_SCALES = ((1e8, 1e8, "亿"), (1e4, 1e4, "万"), (0.0, 1.0, ""))
#: the scales of the chart being drawn (set per render from its labels)
_SCALES: contextvars.ContextVar[tuple[tuple[float, float, str], ...]] = contextvars.ContextVar(
    "chart_scales", default=_TICK_SCALES
)
TICK_PLACES = 3  # at most this many decimals in a tick label: ¥0.125M, 0.125%, 1.125k


def _decimals(step: float, cap: int, values: Sequence[float] = ()) -> int:
    """The fewest decimals (at most `cap`) that write the step and every tick exactly.

    0.25 → 2, 0.2 → 1, 0.5 → 1, 2.5 → 1, 0.125 → 3, 1 → 0, 10 → 0. Float noise far below the tick
    spacing (0.30000000000000004) does not count as a digit.
    """
    step = abs(step)
    if not math.isfinite(step) or step == 0:
        step = 0.0
    tolerance = step * 1e-6 if step else 1e-9
    needed = 0
    for number in (step, *values):
        if not math.isfinite(number) or number == 0:
            continue
        places = next((p for p in range(cap + 1) if abs(round(number, p) - number) <= tolerance), cap + 1)
        needed = max(needed, places)
    return min(needed, cap)


def _needs_more_than(step: float, cap: int, values: Sequence[float]) -> bool:
    return _decimals(step, cap + 1, values) > cap


def _plain(value: float, places: int) -> str:
    """`value` with `places` decimals, trailing zeros (and a lone point) dropped; never "-0"."""
    text = f"{value:,.{places}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _tick_labels(
    values: Sequence[float], unit: str | None, step: float, size: float, *, others: Sequence[float] = ()
) -> list[str]:
    """Every tick of an axis written with one rule: the decimals that every tick needs to be exact, then
    trailing zeros trimmed from each label (¥0, ¥0.25M, ¥0.5M, ¥0.75M, ¥1M)."""
    ticks = [*values, *others]
    if unit == "%":
        places = min(TICK_PLACES, _decimals(step * 100, TICK_PLACES, [v * 100 for v in ticks]))
        return [_plain(v * 100, places) + "%" for v in values]
    # The largest scale the axis reaches, unless its labels would need too many decimals (a narrow range
    # high up, 1,000,020 – 1,000,100, in millions): then a smaller one.
    divisor, suffix = next(
        (
            (d, s)
            for limit, d, s in _SCALES.get()
            if size >= limit and not _needs_more_than(step / d, TICK_PLACES, [v / d for v in ticks])
        ),
        (1.0, ""),
    )
    places = _decimals(step / divisor, TICK_PLACES, [v / divisor for v in ticks])
    labels = []
    for value in values:
        text = _plain(value / divisor, places)
        text = text if text == "0" else text + suffix
        labels.append(with_currency(text, text.startswith("-"), unit))
    return labels


def _axis_number(value: float, unit: str | None, span: float, places: int = 1) -> str:
    if unit == "%":
        places = 0 if span >= 0.05 else (1 if span >= 0.005 else 2)
        return f"{value * 100:.{places}f}%"
    return with_currency(_compact_float(value, span, places), value < 0, unit)


def _compact_float(value: float, span: float | None = None, places: int = 1) -> str:
    if value == 0:
        return "0"
    size = max(abs(value), abs(span or 0.0))
    for limit, divisor, suffix in _SCALES.get():
        if suffix and size >= limit:
            scaled = value / divisor
            return f"{scaled:,.{places}f}".rstrip("0").rstrip(".") + suffix
    if size >= 10 or value == int(value):
        return f"{value:,.0f}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _compact(value: float, unit: str | None) -> str:
    return _axis_number(value, unit, 0.0 if unit != "%" else 1.0)


def _short(value: Decimal, unit: str | None) -> str:
    """A legend figure: exact below 10,000, compact above (the text table keeps every digit)."""
    if unit == "%" or abs(value) < 10_000:
        return fmt_number(value, unit, EN)
    return _axis_number(float(value), unit, 0.0, places=2)


def _legend_text(text: str, width: int = LEGEND_LABEL_WIDTH) -> str:
    return drawable(_clip(text, width))


# ---------------------------------------------------------------------------------------------------------
# Text fallback


def display_width(text: str) -> int:
    """Columns in a monospace font: East Asian wide and full-width characters take two."""
    return sum(
        2 if unicodedata.east_asian_width(ch) in ("W", "F") else (0 if unicodedata.combining(ch) else 1)
        for ch in text
    )


def _clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    if display_width(text) <= width:
        return text
    out, used = "", 0
    for ch in text:
        w = display_width(ch)
        if used + w > width - 1:
            break
        out, used = out + ch, used + w
    return out + "…"


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, align: str | None = None) -> str:
    """A monospace table; `align` is one letter per column, l or r (default: first left, the rest right)."""
    columns = len(headers)
    align = align or "l" + "r" * (columns - 1)
    cells = [[_clip(c, 28) for c in headers], *[[_clip(str(c), 28) for c in row] for row in rows]]
    widths = [max(display_width(row[i]) for row in cells) for i in range(columns)]

    def line(row: Sequence[str]) -> str:
        parts = []
        for i, cell in enumerate(row):
            pad = " " * (widths[i] - display_width(cell))
            parts.append(cell + pad if align[i] == "l" else pad + cell)
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule, *(line(r) for r in cells[1:])])


def text_table(chart: Chart) -> str:
    """The chart's numbers as a monospace table, for when the PNG cannot be drawn or uploaded."""
    if isinstance(chart, GoalChart):
        return _goal_table(chart)
    if isinstance(chart, BreakdownChart):
        return _breakdown_table(chart)
    return _ratio_table(chart)


def _locale(labels: ChartLabels) -> str:
    """The locale a chart's numbers are written in: Chinese labels write 万 and 亿."""
    return ZH_CN if labels.cjk_units else EN


def _title_lines(chart: Chart) -> list[str]:
    subtitle = chart.formula if isinstance(chart, RatioChart) else chart.subtitle
    return [chart.title, *([subtitle] if subtitle else [])]


def _goal_table(chart: GoalChart) -> str:
    labels, unit = chart.labels, chart.unit
    rows: list[list[str]] = []
    points = list(zip(chart.days, chart.actual, strict=True))
    # one row a week, always ending on the last day shown
    for day, value in points[::-1][::7][::-1]:
        pace = _pace_at(chart, day)
        rows.append([day.isoformat(), fmt_number(value, unit, EN), fmt_number(pace, unit, EN)])
    headers = [labels.day, labels.actual, labels.pace if chart.pace is not None else ""]
    table = format_table(headers, rows) if rows else ""
    summary = [
        labels.target_line.format(target=labels.target, value=fmt_number(chart.target, unit, _locale(labels)),
                                  deadline=labels.deadline, date=chart.deadline.isoformat()),
    ]
    if chart.projected is not None:
        summary.append(labels.projected_line.format(projected=labels.projected,
                                                    value=fmt_number(chart.projected, unit, _locale(labels))))
    return "\n".join([*_title_lines(chart), *([table] if table else []), *summary])


def _pace_at(chart: GoalChart, day: date) -> Decimal | None:
    """The pace line's value at the end of `day` (a straight line: bot.metrics.pace_at lies on it)."""
    if chart.pace is None:
        return None
    (from_day, from_value), (to_day, to_value) = chart.pace
    span = (to_day - from_day).days
    done = min(max((day - from_day).days, 0), span)
    return from_value + (to_value - from_value) * Decimal(done) / Decimal(span) if span > 0 else to_value


def _breakdown_table(chart: BreakdownChart) -> str:
    labels, unit = chart.labels, chart.unit
    names = list(chart.totals) or list(chart.values)
    if chart.stacked and chart.periods:
        fmt = "%Y-%m" if chart.freq == "M" else "%m-%d"
        headers = [labels.channel, *(p.strftime(fmt) for p in chart.periods), labels.total]
        rows = [
            [
                labels.no_channel if ch == "" else ch,
                *(fmt_number(v, unit, EN) for v in chart.values.get(ch, [None] * len(chart.periods))),
                fmt_number(chart.totals.get(ch), unit, EN),
            ]
            for ch in names
        ]
    else:
        headers = [labels.channel, labels.value]
        rows = [
            [labels.no_channel if ch == "" else ch, fmt_number(chart.totals.get(ch), unit, EN)] for ch in names
        ]
    if chart.overall is not None:
        rows.append([labels.total, *([""] * (len(headers) - 2)), fmt_number(chart.overall, unit, EN)])
    return "\n".join([*_title_lines(chart), format_table(headers, rows)])


def _ratio_table(chart: RatioChart) -> str:
    labels, unit = chart.labels, chart.unit
    n = len(chart.periods)
    nums = list(chart.numerators) or [None] * n
    dens = list(chart.denominators) or [None] * n
    fmt = "%Y-%m" if chart.freq == "M" else "%Y-%m-%d"
    rows = [
        [p.strftime(fmt), fmt_number(num, None, EN), fmt_number(den, None, EN), fmt_number(v, unit, EN)]
        for p, num, den, v in zip(chart.periods, nums, dens, chart.values, strict=True)
    ]
    if chart.overall is not None:
        total_row = [fmt_number(chart.overall_numerator, None, EN), fmt_number(chart.overall_denominator, None, EN)]
        rows.append([labels.period, *total_row, fmt_number(chart.overall, unit, EN)])
    headers = [
        labels.week_of if chart.freq == "W" else labels.day,
        labels.numerator,
        labels.denominator,
        chart.title,
    ]
    return "\n".join([*_title_lines(chart), format_table(headers, rows)])
