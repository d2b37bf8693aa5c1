"""How a level goal's pace is shown (digest, /goal show, the report's goal chart) next to a summed goal's."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from bot import analytics as an
from bot.i18n import ZH_CN
from bot.render import charts, views
from bot.render.digest import goal_item
from bot.services.digest import DigestGoal
from bot.services.goals import CUMULATIVE, LEVEL, OFF_TRACK, GoalCard, Progress
from storage.models import Goal, Metric
from tests.support.text import strings

D = Decimal
TODAY = date(2026, 11, 23)
START, DUE = date(2026, 10, 1), date(2026, 12, 31)

LEVEL_PROGRESS = Progress(
    current=D("0.024"), source="kpi", percent_of_target=D("0.6"), percent_of_time=D(54) / D(93), status=OFF_TRACK,
    projected=D("0.024"), needed_per_day=None, confidence=None, kind=LEVEL,
    needed_level=D("0.04") + D("0.016") * 54 / 38,
)
SUMMED_PROGRESS = Progress(
    current=D(1_060_000), source="kpi", percent_of_target=D("0.53"), percent_of_time=D(54) / D(93), status="at risk",
    projected=D(1_060_000) / 54 * 92, needed_per_day=D(940_000) / 38, confidence=None, kind=CUMULATIVE,
)


def digest_goal(progress: Progress, unit: str | None, target: str) -> DigestGoal:
    return DigestGoal(number=1, title="转化率 4%", owner_id=None, metric_name="conversion", unit=unit, target=D(target),
                      baseline=None, start_on=START, due_on=DUE, channel=None, progress=progress)


def test_digest_line_of_a_level_goal() -> None:
    line = goal_item(digest_goal(LEVEL_PROGRESS, "%", "0.04"), TODAY)
    assert "off track" in line and "2.4% of 4%" in line and "projected 2.4% by Dec 31" in line, line
    assert "needs 6.27% from here on" in line and "/day" not in line, line


def test_digest_line_of_a_summed_goal_is_unchanged() -> None:
    line = goal_item(digest_goal(SUMMED_PROGRESS, "¥", "2000000"), TODAY)
    assert "at risk" in line and "¥1,060,000 of ¥2,000,000" in line and "projected ¥1,805,926 by Dec 31" in line, line
    assert "needs ¥24,737/day" in line and "from here on" not in line, line


def test_goal_show_of_a_level_goal() -> None:
    goal = GoalCard.of(Goal(number=1, title="转化率 4%", metric=Metric(number=1, name="conversion", unit="%"),
                            target=D("0.04"), start_on=START, due_on=DUE, owner_id=None, status="active"))
    shown = views.goal_show(goal, LEVEL_PROGRESS, [], today=TODAY)
    text = "\n".join(value for _, value in strings([shown.blocks, shown.text]))
    assert "Needed from here on*\n6.27%" in text and "Needed per day" not in text, text
    assert "Projected at deadline*\n2.4%" in text and "off track" in text, text
    shown = views.goal_show(goal, LEVEL_PROGRESS, [], today=TODAY, locale=ZH_CN)
    zh = "\n".join(value for _, value in strings([shown.blocks, shown.text]))
    assert "此后需达到*\n6.27%" in zh, zh


def test_goal_chart_draws_a_pace_line_for_a_total_and_a_lift_only() -> None:
    def series(kind: str, metric: an.MetricInfo, baseline: Decimal | None, target: Decimal) -> an.GoalSeries:
        return an.GoalSeries(
            goal_id=1, number=1, title="G", metric=metric, channel=None, kind=kind, start=START, deadline=DUE,
            as_of=TODAY, target=target, baseline=baseline,
            actual=tuple(an.DayValue(START + timedelta(days=i), baseline) for i in range(54)), weekly=(),
            current=baseline, projected=baseline, needed_per_day=None,
            pace=an.pace_path(kind=an.pace_kind(metric), start=START, deadline=DUE, target=target, baseline=baseline,
                              better=metric.better),
        )

    ratio = an.MetricInfo(id=1, name="conversion", unit="%", agg="sum", better="up", numerator_id=2,
                          denominator_id=3)
    chart = charts.GoalChart.from_series(series("ratio", ratio, None, D("0.04")))
    assert chart.pace is None and chart.projected is None, "a level held to its target has the target line alone"
    chart = charts.GoalChart.from_series(series("ratio", ratio, D("0.02"), D("0.04")))
    assert chart.pace == ((START - timedelta(days=1), D("0.02")), (DUE, D("0.04"))), "a lift is due step by step"
    gmv = an.MetricInfo(id=4, name="gmv", unit="¥", agg="sum", better="up", numerator_id=None,
                        denominator_id=None)
    chart = charts.GoalChart.from_series(series("cumulative", gmv, D(0), D(2_000_000)))
    assert chart.pace == ((START - timedelta(days=1), D(0)), (DUE, D(2_000_000))) and chart.projected == D(0)
    # the table's pace column is bot.metrics.pace_at on every day
    from bot import metrics

    for day in (START, START + timedelta(days=10), TODAY, DUE):
        expected = metrics.pace_at(day, start=START, deadline=DUE, target=D(2_000_000), baseline=None,
                                   kind=metrics.TOTAL)
        assert charts._pace_at(chart, day) == expected, day
