"""One status rule (bot.metrics.goal_figures) for every goal on every day: nothing logged once days are over is
behind, a first day with a value is judged, and after its deadline a goal is reached or missed."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from bot import metrics

NOV1, NOV30 = date(2026, 11, 1), date(2026, 11, 30)


def figures(today: date, current: str | None, *, kind: str = metrics.TOTAL, start: date = NOV1,
            target: str = "30000") -> metrics.GoalFigures:
    value = Decimal(current) if current is not None else None
    return metrics.goal_figures(kind=kind, target=Decimal(target), baseline=None, better="up", start=start,
                                deadline=NOV30, today=today, current=value, elapsed_value=value)


def test_nothing_logged_with_most_of_the_time_gone_is_off_track_not_no_data() -> None:
    assert figures(date(2026, 11, 23), None).status == metrics.OFF_TRACK  # 22 of 30 days over: 73 %
    assert figures(date(2026, 11, 23), None, kind=metrics.LEVEL, target="0.04").status == metrics.OFF_TRACK
    assert figures(NOV1, None).status is None  # its first day: nothing was due yet


def test_a_goal_starting_today_with_a_value_has_a_status() -> None:
    assert figures(NOV1, "500").status == metrics.ON_TRACK
    assert figures(NOV1, "0.05", kind=metrics.LEVEL, target="0.04").status == metrics.ON_TRACK
    assert figures(NOV1, "0.01", kind=metrics.LEVEL, target="0.04").status == metrics.OFF_TRACK


def test_after_its_deadline_a_goal_is_reached_or_missed() -> None:
    after = date(2026, 12, 2)
    assert figures(after, "31000").status == metrics.REACHED
    assert figures(after, "29000").status == metrics.MISSED
    assert figures(after, None).status == metrics.MISSED
    assert figures(after, "0.05", kind=metrics.LEVEL, target="0.04").status == metrics.REACHED
    assert figures(NOV30, "29000").status == metrics.ON_TRACK  # the deadline's own day is still being logged
