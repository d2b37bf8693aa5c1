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
from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from importlib import resources
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.i18n import EN, ZH_CN, resolve, t
from bot.i18n.fmt import fmt_date, fmt_number, with_currency

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
    """Every word a chart draws besides user-typed names, and the locale its numbers and dates are written in.

    `ChartLabels.of(locale)` reads them from the catalogs (keys `chart.label.*`); the defaults are English."""

    actual: str = "Actual"
    target: str = "Target"
    pace: str = "Pace"
    projected: str = "Projected"
    deadline: str = "Deadline"
    total: str = "Total"
    other: str = "Other"
    no_channel: str = "(no channel)"
    period: str = "Period"  # the whole period: the ratio table's last row and its line on the chart
    month: str = "Month"  # the monthly table's first column
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
    deadline_on: str = "Deadline {date}"  # the deadline's mark on a goal chart
    named_value: str = "{name} {value}"  # a legend line with its figure: Period 3.54% · 全期3.54%, G-1 target …
    locale: str = EN  # numbers in 万 and 亿 (zh_CN) or k, M and B; dates as the language writes them

    @property
    def cjk_units(self) -> bool:
        return self.locale == ZH_CN

    @classmethod
    def of(cls, locale: str | None) -> ChartLabels:
        loc = resolve(locale)
        words = {f.name: t(f"chart.label.{f.name}", loc) for f in fields(cls) if f.name != "locale"}
        return cls(**words, locale=loc)

    @classmethod
    def zh(cls) -> ChartLabels:
        return cls.of(ZH_CN)


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
        locale = (labels or ChartLabels()).locale
        return cls(
            title=title if title is not None else breakdown.metric.name,
            subtitle=subtitle if subtitle is not None else date_range(breakdown.start, breakdown.end, locale),
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


@dataclass(frozen=True)
class Drawn:
    """Every string a chart drew, by where it is, and any text that leaves the picture (it would be cut off).

    The PNG carries `texts` as its Description, so what a chart says can be read back from the file."""

    title: str
    subtitle: str
    footer: str
    legend: tuple[str, ...]
    x_ticks: tuple[str, ...]
    y_ticks: tuple[str, ...]
    notes: tuple[str, ...]  # values written on points and bars, the deadline's mark
    outside: tuple[str, ...]  # texts (and "legend") whose box is not wholly inside the picture
    legend_box: tuple[float, float, float, float] | None  # x0, y0, x1, y1 in pixels, the picture's origin bottom left
    size: tuple[float, float]  # the picture's width and height in pixels

    @property
    def texts(self) -> tuple[str, ...]:
        return tuple(s for s in (self.title, self.subtitle, *self.legend, *self.y_ticks, *self.x_ticks, *self.notes,
                                 self.footer) if s)


def render(chart: Chart) -> bytes:
    """PNG bytes of any chart; NoChartData when there is nothing to plot, ChartError when drawing fails."""
    return render_drawn(chart)[0]


def render_drawn(chart: Chart) -> tuple[bytes, Drawn]:
    """The PNG and every string drawn on it (read from the figure before it was saved)."""
    if isinstance(chart, GoalChart):
        return goal_chart(chart)
    if isinstance(chart, BreakdownChart):
        return breakdown_chart(chart)
    return ratio_chart(chart)


def goal_chart(data: GoalChart) -> tuple[bytes, Drawn]:
    if len(data.days) != len(data.actual):
        raise ChartError(f"{len(data.days)} days but {len(data.actual)} values")
    if all(v is None for v in data.actual):
        raise NoChartData(f"no values for {data.title!r} yet")
    return _render(data, _draw_goal)


def breakdown_chart(data: BreakdownChart) -> tuple[bytes, Drawn]:
    if data.stacked:
        for channel, values in data.values.items():
            if len(values) != len(data.periods):
                raise ChartError(f"{channel!r} has {len(values)} values for {len(data.periods)} periods")
        if not any(v for values in data.values.values() for v in values):
            raise NoChartData(f"no values for {data.title!r}")
    elif all(v is None for v in data.totals.values()):
        raise NoChartData(f"no values for {data.title!r}")
    return _render(data, _draw_breakdown)


def ratio_chart(data: RatioChart) -> tuple[bytes, Drawn]:
    if len(data.periods) != len(data.values):
        raise ChartError(f"{len(data.periods)} periods but {len(data.values)} values")
    if all(v is None for v in data.values):
        raise NoChartData(f"no values for {data.title!r}")
    return _render(data, _draw_ratio)


def _render(data: Any, draw: Callable[[Figure, Axes, Any], None]) -> tuple[bytes, Drawn]:
    global _worker
    if _worker is None:
        with _FONTS_LOCK:
            if _worker is None:
                _worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mktbot-charts")
    return _worker.submit(_render_drawn_here, data, draw).result()


def _render_here(data: Any, draw: Callable[[Figure, Axes, Any], None]) -> bytes:
    return _render_drawn_here(data, draw)[0]


def _render_drawn_here(data: Any, draw: Callable[[Figure, Axes, Any], None]) -> tuple[bytes, Drawn]:
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
                _fit(fig, ax)
                drawn = _drawn(fig, ax)
                buffer = io.BytesIO()
                fig.savefig(buffer, format="png", dpi=DPI,
                            metadata={"Software": "mktbot", "Description": "\n".join(drawn.texts)})
                fig.clear()
        finally:
            _SCALES.reset(token)
        return buffer.getvalue(), drawn
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
    locale = data.labels.locale
    footer = data.footer or (f"mktbot · {fmt_date(data.generated_on, None, locale)}" if data.generated_on else "mktbot")
    fig.text(0.98, 0.015, drawable(footer), size=8, color="#9CA3AF", ha="right", va="bottom")


def _legend_under(ax: Axes, ncol: int) -> None:
    """The legend in one or two rows under the plot, where it never covers a line or a bar (_fit takes
    columns away while it is wider than the picture)."""
    handles, _ = ax.get_legend_handles_labels()
    ncol = max(1, min(ncol, 4, len(handles)))
    legend = ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=ncol, borderaxespad=0.0,
                       handlelength=1.6, columnspacing=1.2)
    legend.set_gid(UNDER)


def _legend_beside(ax: Axes) -> None:
    """The legend as a column at the right of the plot, top entry first (many channels)."""
    ax.set_position((0.11, 0.15, 0.66, 0.66))
    handles, names = ax.get_legend_handles_labels()
    legend = ax.legend(handles[::-1], names[::-1], loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
    legend.set_gid(BESIDE)


UNDER, BESIDE, VALUE_NOTE = "legend-under", "legend-beside", "value-note"
MARGIN_PX = 8.0  # nothing is drawn closer than this to the picture's edge


def _fit(fig: Figure, ax: Axes) -> None:
    """Make everything fit inside the picture, measured as drawn: the legend (fewer columns, or the plot
    moved up or narrowed for it), the tick labels (the plot moved in), the title lines (cut shorter), and
    values written on points and bars (one that would overlap another is left out)."""
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    width, height = fig.bbox.width, fig.bbox.height
    legend = ax.get_legend()
    footer = fig.texts[-1] if fig.texts else None
    if legend is not None and legend.get_gid() == UNDER:
        ncol = int(getattr(legend, "_ncols", 1))

        def sticks_out(legend: Any) -> bool:
            box = legend.get_window_extent(renderer)
            return bool(box.x0 < MARGIN_PX or box.x1 > width - MARGIN_PX)

        while ncol > 1 and sticks_out(legend):
            ncol -= 1
            _legend_under(ax, ncol)
            legend = ax.get_legend()
            assert legend is not None
        box = legend.get_window_extent(renderer)
        floor = footer.get_window_extent(renderer).y1 + 2 if footer is not None else MARGIN_PX
        if box.y0 < floor:  # more rows than there is room for: the plot moves up and gets shorter
            x0, y0, w, h = ax.get_position().bounds
            lift = (floor - box.y0) / height
            ax.set_position((x0, y0 + lift, w, max(h - lift, 0.25)))
    elif legend is not None and legend.get_gid() == BESIDE:
        box = legend.get_window_extent(renderer)
        if box.x1 > width - MARGIN_PX:
            x0, y0, w, h = ax.get_position().bounds
            ax.set_position((x0, y0, max(w - (box.x1 - width + MARGIN_PX) / width, 0.4), h))
    # the y tick labels (¥12,500万 is wide) stay inside on the left, the last x tick label on the right
    for _ in range(2):
        x0, y0, w, h = ax.get_position().bounds
        ybox = ax.yaxis.get_tightbbox(renderer)
        xbox = ax.xaxis.get_tightbbox(renderer)
        shift = max(0.0, MARGIN_PX - ybox.x0) / width if ybox is not None else 0.0
        if xbox is not None:
            shift = max(shift, (MARGIN_PX - xbox.x0) / width)
        over = max(0.0, xbox.x1 - width + MARGIN_PX) / width if xbox is not None else 0.0
        legend = ax.get_legend()
        if legend is not None and legend.get_gid() == BESIDE:
            over = max(over, (legend.get_window_extent(renderer).x1 - width + MARGIN_PX) / width)
        if shift <= 0 and over <= 0:
            break
        ax.set_position((x0 + shift, y0, max(w - shift - over, 0.3), h))
    _thin_x_labels(ax, renderer)
    for text in fig.texts:
        _cut_to_fit(text, renderer, width)
    _drop_overlapping_notes(ax, renderer)


def _thin_x_labels(ax: Axes, renderer: Any) -> None:
    """Labelled periods (11-05, 11月5日…) measured as drawn: if neighbours touch once the plot is narrowed (a
    legend beside it), every second one, then third…, is kept, so no two labels run into each other."""
    from matplotlib.ticker import FixedLocator

    if not isinstance(ax.xaxis.get_major_locator(), FixedLocator):
        return  # a date axis picks its own ticks as it draws
    ticks = list(ax.get_xticks())
    labels = [label.get_text() for label in ax.get_xticklabels()]
    boxes = [label.get_window_extent(renderer) for label in ax.get_xticklabels()]
    for step in range(1, len(ticks) + 1):
        kept = boxes[::step]
        if all(a.x1 + 6 <= b.x0 for a, b in pairwise(kept)):
            if step > 1:
                ax.set_xticks(ticks[::step], labels[::step])
            return


def _cut_to_fit(text: Any, renderer: Any, width: float) -> None:
    """A title line longer than the picture is cut with "…" until it fits."""
    original = text.get_text()
    columns = display_width(original)
    while columns > 4 and text.get_window_extent(renderer).x1 > width - MARGIN_PX + 0.5:
        columns -= 2
        text.set_text(_clip(original.replace(r"\$", "$"), columns).replace("$", r"\$"))
    if text.get_window_extent(renderer).x0 < MARGIN_PX - 0.5 and text.get_horizontalalignment() == "right":
        text.set_text(_clip(original.replace(r"\$", "$"), max(columns - 4, 1)).replace("$", r"\$"))


def _drop_overlapping_notes(ax: Axes, renderer: Any) -> None:
    """Values written on points and bars: the last one always, then from the right each one that touches no
    value already kept and stays inside the plot's width; the others are left out (the table has them all)."""
    notes = [t for t in ax.texts if t.get_gid() == VALUE_NOTE and t.get_visible()]
    if not notes:
        return
    fig_box = ax.figure.bbox
    kept: list[Any] = []
    for note in sorted(notes, key=lambda t: -float(getattr(t, "xy", (0.0, 0.0))[0])):
        box = note.get_window_extent(renderer).expanded(1.08, 1.0)
        inside = box.x0 >= fig_box.x0 + MARGIN_PX - 1 and box.x1 <= fig_box.x1 - MARGIN_PX + 1
        if inside and not any(box.overlaps(other) for other in kept):
            kept.append(box)
        else:
            note.set_visible(False)


def _drawn(fig: Figure, ax: Axes) -> Drawn:
    """Read every string back from the figure as it will be saved, and which of them leave the picture."""
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    for axis in (ax.xaxis, ax.yaxis):  # the tick labels as the next draw writes them (a full draw costs a third more)
        axis._update_ticks()  # type: ignore[union-attr]
    box = fig.bbox

    def inside(extent: Any) -> bool:
        return bool(extent.x0 >= box.x0 - 0.5 and extent.y0 >= box.y0 - 0.5 and extent.x1 <= box.x1 + 0.5
                    and extent.y1 <= box.y1 + 0.5)

    def ticks(axis: Any) -> list[Any]:
        low, high = sorted(axis.get_view_interval())
        span = (high - low) * 1e-9
        return [tick.label1 for tick in axis.get_major_ticks()
                if low - span <= tick.get_loc() <= high + span and tick.label1.get_visible() and tick.label1.get_text()]

    x_labels, y_labels = ticks(ax.xaxis), ticks(ax.yaxis)
    notes = [t for t in ax.texts if t.get_visible() and t.get_text()]
    legend = ax.get_legend()
    legend_texts = [t for t in legend.get_texts() if t.get_text()] if legend is not None else []
    frame = [t.get_text() for t in fig.texts]
    # the legend's texts are placed when it is drawn: its own box (which holds them) is measured instead
    outside = [t.get_text() for t in (*fig.texts, *x_labels, *y_labels, *notes)
               if not inside(t.get_window_extent(renderer))]
    legend_box = None
    if legend is not None:
        extent = legend.get_window_extent(renderer)
        legend_box = (float(extent.x0), float(extent.y0), float(extent.x1), float(extent.y1))
        if not inside(extent):
            outside.append("legend")

    def plain(text: str) -> str:
        return text.replace(r"\$", "$")

    return Drawn(
        title=plain(frame[0]) if frame else "",
        subtitle=plain(frame[1]) if len(frame) > 2 else "",
        footer=plain(frame[-1]) if len(frame) > 1 else "",
        legend=tuple(plain(t.get_text()) for t in legend_texts),
        x_ticks=tuple(t.get_text() for t in x_labels),
        y_ticks=tuple(t.get_text() for t in y_labels),
        notes=tuple(plain(t.get_text()) for t in notes),
        outside=tuple(plain(t) for t in outside),
        legend_box=legend_box,
        size=(float(box.width), float(box.height)),
    )


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
        label=labels.named_value.format(name=labels.actual, value=_short(last_value, unit)),
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
    ax.plot([], [], color=TARGET_COLOR, linestyle=":", label=labels.named_value.format(name=labels.target, value=_short(data.target, unit)))
    ax.axvline(deadline_x, color=PACE_COLOR, linewidth=0.9, zorder=1)
    ax.annotate(
        labels.deadline_on.format(date=month_day(data.deadline, labels.locale)),
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
            label=labels.named_value.format(name=labels.projected, value=_short(data.projected, unit)),
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
    ax.xaxis.set_major_formatter(_date_formatter(locator, labels.locale))
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


def _reference_lines(ax: Axes, references: Sequence[tuple[str, Decimal]], unit: str | None,
                     labels: ChartLabels) -> None:
    """A goal's line on a KPI chart: its target level, or its pace per period for a total."""
    for i, (label, value) in enumerate(references[:3]):
        text = labels.named_value.format(name=label, value=_short(value, unit))
        ax.axhline(_f(value), color=TARGET_COLOR if i == 0 else PACE_COLOR, linestyle=(0, (5, 3)), linewidth=1.3,
                   zorder=5, label=_legend_text(text, 30))


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
    _reference_lines(ax, data.references, data.unit, data.labels)
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
                    gid=VALUE_NOTE,
                )
    _period_axis(ax, data.periods, data.freq, labels.locale)
    _y_range(ax, [0.0, *bottoms, *(_f(v) for _, v in data.references)], data.unit, headroom=0.12)
    if any(partial):  # a swatch that looks like the hatched bars (an empty bar would show a plain colour)
        from matplotlib.patches import Rectangle

        ax.add_patch(Rectangle((0, 0), 0, 0, facecolor="#9CA3AF", alpha=0.45, hatch="///", linewidth=0,
                               label=labels.partial))
    if len(series) + len(data.references[:3]) <= 4:
        _legend_under(ax, ncol=4)
    else:  # one row would overflow into the subtitle: a column at the right instead, top channel first
        _legend_beside(ax)


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
            fmt_number(value, data.unit, labels.locale),
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
            label=labels.named_value.format(name=labels.total, value=fmt_number(data.overall, data.unit, labels.locale)),
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
                    fmt_number(value, data.unit, labels.locale),
                    (x, _f(value)),
                    xytext=(0, 6),
                    textcoords="offset points",
                    ha="center",
                    size=8.5,
                    color=TEXT_COLOR,
                    gid=VALUE_NOTE,
                )
    if data.overall is not None:
        ax.axhline(_f(data.overall), color=TARGET_COLOR, linestyle=":", linewidth=1.2, zorder=2)
        ax.plot(
            [],
            [],
            color=TARGET_COLOR,
            linestyle=":",
            label=labels.named_value.format(name=labels.period,
                                            value=fmt_number(data.overall, data.unit, labels.locale)),
        )
    partial = list(data.partial) if len(data.partial) == len(positions) else []
    hollow = [(x, _f(v)) for x, v, p in zip(positions, data.values, partial, strict=False) if p and v is not None]
    if hollow:  # a period not over yet: an open marker, not a full point
        ax.plot([x for x, _ in hollow], [y for _, y in hollow], linestyle="none", marker="o", markersize=7,
                markerfacecolor="white", markeredgecolor=ACTUAL_COLOR, zorder=4, label=labels.partial)
    _reference_lines(ax, data.references, data.unit, data.labels)
    _period_axis(ax, data.periods, data.freq, labels.locale)
    span = [v for v in (*values, _f(data.overall), *(_f(v) for _, v in data.references)) if v == v]
    _y_range(ax, span, data.unit, headroom=0.15, floor_zero=True)
    _legend_under(ax, ncol=3)


# ---------------------------------------------------------------------------------------------------------
# Axes and number formats


def month_day(day: date, locale: str) -> str:
    """A day without its year: Dec 31 · 12月31日."""
    return f"{day.month}月{day.day}日" if resolve(locale) == ZH_CN else f"{day:%b} {day.day}"


def date_range(start: date, end: date, locale: str) -> str:
    """Two days as the language writes a span: Nov 2 – Nov 29, 2026 · 2026年11月2日–11月29日."""
    if resolve(locale) == ZH_CN:
        tail = month_day(end, locale) if end.year == start.year else f"{end.year}年{month_day(end, locale)}"
        return f"{start.year}年{month_day(start, locale)}–{tail}"
    head = month_day(start, locale) if end.year == start.year else f"{month_day(start, locale)}, {start.year}"
    return f"{head} – {month_day(end, locale)}, {end.year}"


def period_label(day: date, freq: str, locale: str = EN) -> str:
    """A bucket's label under its bar or point: a month (2026-11 · 2026年11月) or its first day (11-02 · 11月2日)."""
    if resolve(locale) == ZH_CN:
        return f"{day.year}年{day.month}月" if freq == "M" else month_day(day, locale)
    return day.strftime("%Y-%m" if freq == "M" else "%m-%d")


#: ConciseDateFormatter's formats (years, months, days, hours, minutes, seconds) in Chinese: 2027年, 11月,
#: 11月15日; the leading zeros strftime writes (01月, 11月05日) are taken out after formatting
_ZH_DATE_FORMATS = ["%Y年", "%m月", "%m月%d日", "%H:%M", "%H:%M", "%S.%f"]
_ZH_ZERO_FORMATS = ["", "%Y年", "%m月", "%m月%d日", "%H:%M", "%H:%M"]


def _date_formatter(locator: Any, locale: str) -> Any:
    import matplotlib.dates as mdates

    if resolve(locale) != ZH_CN:
        return mdates.ConciseDateFormatter(locator, show_offset=False)
    return _zh_date_formatter_class()(locator, formats=_ZH_DATE_FORMATS, zero_formats=_ZH_ZERO_FORMATS,
                                      show_offset=False)


@cache
def _zh_date_formatter_class() -> type:
    import re

    import matplotlib.dates as mdates

    leading_zero = re.compile(r"(?<!\d)0(?=\d[月日])")

    class ZhDateFormatter(mdates.ConciseDateFormatter):  # type: ignore[misc]
        """Matplotlib's concise date ticks in Chinese: 10月 11月 12月 2027年; 11月15日 12月 12月15日."""

        def format_ticks(self, values: Any) -> list[str]:
            return [leading_zero.sub("", label) for label in super().format_ticks(values)]

        def __call__(self, x: float, pos: int | None = None) -> str:
            return str(leading_zero.sub("", super().__call__(x, pos)))

    return ZhDateFormatter


def _f(value: Decimal | float | None, missing: float = float("nan")) -> float:
    return missing if value is None else float(value)


def _period_axis(ax: Axes, periods: Sequence[date], freq: str, locale: str = EN) -> None:
    n = len(periods)
    most = 10 if locale != ZH_CN else (7 if freq == "D" else 8)  # 11月22日 is wider than 11-22
    step = max(1, -(-n // most))
    ticks = list(range(0, n, step))
    ax.set_xticks(ticks, [period_label(periods[i], freq, locale) for i in ticks])
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
    # high up, 1,000,020 – 1,000,100, in millions): then a smaller one. One scale for the whole axis; in
    # Chinese it is one every gridline but 0 reaches (¥2,500万 … ¥12,500万, never ¥0.25亿), as a Chinese
    # team writes amounts.
    scales = _SCALES.get()
    if scales is _CJK_SCALES:
        size = min((abs(v) for v in ticks if v), default=size)
    divisor, suffix = next(
        (
            (d, s)
            for limit, d, s in scales
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
        return fmt_number(value, unit, EN)  # below 10,000 both languages write every digit
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
    """The locale a chart's numbers and dates are written in: Chinese labels write 万, 亿 and 11月23日."""
    return labels.locale


def _title_lines(chart: Chart) -> list[str]:
    subtitle = chart.formula if isinstance(chart, RatioChart) else chart.subtitle
    return [chart.title, *([subtitle] if subtitle else [])]


def _goal_table(chart: GoalChart) -> str:
    labels, unit, loc = chart.labels, chart.unit, chart.labels.locale
    rows: list[list[str]] = []
    points = list(zip(chart.days, chart.actual, strict=True))
    # one row a week, always ending on the last day shown
    for day, value in points[::-1][::7][::-1]:
        row = [month_day(day, loc), fmt_number(value, unit, loc)]
        rows.append([*row, fmt_number(_pace_at(chart, day), unit, loc)] if chart.pace is not None else row)
    headers = [labels.day, labels.actual, *([labels.pace] if chart.pace is not None else [])]
    table = format_table(headers, rows) if rows else ""
    summary = [
        labels.target_line.format(target=labels.target, value=fmt_number(chart.target, unit, loc),
                                  deadline=labels.deadline, date=fmt_date(chart.deadline, None, loc)),
    ]
    if chart.projected is not None:
        summary.append(labels.projected_line.format(projected=labels.projected,
                                                    value=fmt_number(chart.projected, unit, loc)))
    return "\n".join([*_title_lines(chart), *([table] if table else []), *summary])


def _pace_at(chart: GoalChart, day: date) -> Decimal | None:
    """The pace line's value at the end of `day` (a straight line: bot.metrics.pace_at lies on it)."""
    if chart.pace is None:
        return None
    (from_day, from_value), (to_day, to_value) = chart.pace
    span = (to_day - from_day).days
    done = min(max((day - from_day).days, 0), span)
    return from_value + (to_value - from_value) * Decimal(done) / Decimal(span) if span > 0 else to_value


#: the channels a breakdown's text table has a column for; the rest are summed into "Other"
TABLE_CHANNELS = 2


def _weeks(periods: Sequence[date], freq: str) -> list[tuple[date, list[int]]]:
    """Periods grouped into table rows: daily ones into weeks from Monday (the first row starts on the first
    day shown), weekly and monthly ones one a row."""
    if freq != "D":
        return [(day, [i]) for i, day in enumerate(periods)]
    rows: list[tuple[date, list[int]]] = []
    for i, day in enumerate(periods):
        monday = day - timedelta(days=day.weekday())
        if rows and rows[-1][0] - timedelta(days=rows[-1][0].weekday()) == monday:
            rows[-1][1].append(i)
        else:
            rows.append((day, [i]))
    return rows


def _sum(values: Sequence[Decimal | None]) -> Decimal | None:
    known = [v for v in values if v is not None]
    return sum(known, Decimal(0)) if known else None


def _breakdown_table(chart: BreakdownChart) -> str:
    """One row a week (or month), one column for each of the largest channels, then Other and the total: a
    table that stays narrow enough for a Slack thread, in the chart's units and dates."""
    labels, unit, loc = chart.labels, chart.unit, chart.labels.locale
    names = list(chart.totals) or list(chart.values)

    def name(channel: str) -> str:
        return labels.no_channel if channel == "" else channel

    if chart.stacked and chart.periods:
        ranked = sorted(names, key=lambda ch: -_f(chart.totals.get(ch), 0.0))
        shown, rest = ranked[:TABLE_CHANNELS], ranked[TABLE_CHANNELS:]
        if len(rest) == 1:
            shown, rest = ranked, []
        n = len(chart.periods)

        def values(channel: str) -> Sequence[Decimal | None]:
            return chart.values.get(channel) or [None] * n

        headers = [labels.week_of if chart.freq != "M" else labels.month, *(_clip(name(ch), 12) for ch in shown),
                   *([labels.other] if rest else []), labels.total]
        rows = []
        for start, at in _weeks(chart.periods, chart.freq):
            cells = [_sum([values(ch)[i] for i in at]) for ch in shown]
            other = [_sum([values(ch)[i] for ch in rest for i in at])] if rest else []
            total = _sum([values(ch)[i] for ch in names for i in at])
            label = period_label(start, chart.freq, loc) if chart.freq == "M" else month_day(start, loc)
            rows.append([label, *(fmt_number(v, unit, loc) for v in (*cells, *other, total))])
        other_total = [_sum([chart.totals.get(ch) for ch in rest])] if rest else []
        overall = chart.overall if chart.overall is not None else _sum([chart.totals.get(ch) for ch in names])
        rows.append([labels.total, *(fmt_number(v, unit, loc)
                                     for v in (*(chart.totals.get(ch) for ch in shown), *other_total, overall))])
    else:
        headers = [labels.channel, labels.value]
        rows = [[name(ch), fmt_number(chart.totals.get(ch), unit, loc)] for ch in names]
        if chart.overall is not None:
            rows.append([labels.total, fmt_number(chart.overall, unit, loc)])
    return "\n".join([*_title_lines(chart), format_table(headers, rows)])


def _ratio_table(chart: RatioChart) -> str:
    """One row a week (a daily ratio's weeks from its summed parts, never a mean of days) with its parts."""
    labels, unit, loc = chart.labels, chart.unit, chart.labels.locale
    n = len(chart.periods)
    nums = list(chart.numerators) or [None] * n
    dens = list(chart.denominators) or [None] * n
    has_parts = any(v is not None for v in nums) and any(v is not None for v in dens)
    groups = _weeks(chart.periods, chart.freq) if has_parts else [(day, [i]) for i, day in enumerate(chart.periods)]
    rows = []
    for start, at in groups:
        num, den = _sum([nums[i] for i in at]), _sum([dens[i] for i in at])
        value = chart.values[at[0]] if len(at) == 1 else (num / den if num is not None and den else None)
        label = period_label(start, chart.freq, loc) if chart.freq == "M" else month_day(start, loc)
        rows.append([label, fmt_number(num, None, loc), fmt_number(den, None, loc), fmt_number(value, unit, loc)])
    if chart.overall is not None:
        total_row = [fmt_number(chart.overall_numerator, None, loc), fmt_number(chart.overall_denominator, None, loc)]
        rows.append([labels.period, *total_row, fmt_number(chart.overall, unit, loc)])
    weekly = chart.freq == "W" or (chart.freq == "D" and has_parts)
    headers = [
        labels.week_of if weekly else labels.day,
        labels.numerator,
        labels.denominator,
        _clip(chart.title, 16),
    ]
    return "\n".join([*_title_lines(chart), format_table(headers, rows)])
