"""Units of ratio metrics and of goals: AOV is money, not a percentage; a bare target on a money ratio is kept
as typed; a % goal's baseline is read on its own; a unit changed to or from % rescales the goals on it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from bot.services import goals
from storage.db import Database
from tests.support import factories as make

D = Decimal


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        ({}, None),  # gmv / orders with no units yet: money per order, currency unknown: a plain number
        ({"gmv": "¥"}, "¥"),  # AOV in the numerator's currency
        ({"gmv": "¥", "orders": ""}, "¥"),
    ],
)
def test_aov_is_money_per_order_not_a_percentage(
    db: Database, workspace: str, parts: dict[str, str], expected: str | None
) -> None:
    for name, unit in parts.items():
        make.metric(db, workspace, name, unit=unit)
    assert make.metric(db, workspace, "aov", numerator="gmv", denominator="orders").metric.unit == expected


def test_ratio_units(db: Database, workspace: str) -> None:
    assert make.metric(db, workspace, "conversion", numerator="orders", denominator="visits").metric.unit == "%"
    make.metric(db, workspace, "revenue", unit="¥")
    make.metric(db, workspace, "spend", unit="¥")
    assert make.metric(db, workspace, "roas", numerator="revenue", denominator="spend").metric.unit == "%"
    assert make.metric(db, workspace, "cac", numerator="spend", denominator="new customers").metric.unit == "¥"
    assert make.metric(db, workspace, "orders per yuan", numerator="orders", denominator="spend").metric.unit is None
    assert make.metric(db, workspace, "ctr", numerator="clicks", denominator="impressions", unit="").metric.unit is None, "as asked"


def test_a_bare_target_on_a_money_ratio_is_kept_as_typed(db: Database, workspace: str) -> None:
    make.metric(db, workspace, "gmv", unit="¥")
    make.metric(db, workspace, "aov", numerator="gmv", denominator="orders")
    g = make.goal(db, workspace, "aov", "330")
    assert (g.target, g.baseline) == (D(330), None)


def test_a_percent_goals_baseline_is_read_on_its_own(db: Database, workspace: str) -> None:
    make.metric(db, workspace, "ctr", unit="%")
    g = make.goal(db, workspace, "ctr", "0.035", percent=True, baseline="2.5")
    assert (g.target, g.baseline) == (D("0.035"), D("0.025"))
    g = make.goal(db, workspace, "ctr", "4", baseline="2.5")
    assert (g.target, g.baseline) == (D("0.04"), D("0.025"))
    g = make.goal(db, workspace, "ctr", "0.04", percent=True, baseline="1.5", baseline_percent=True)
    assert (g.target, g.baseline) == (D("0.04"), D("1.5")), "typed as 150 %"


def test_a_unit_changed_to_or_from_percent_rescales_its_goals(db: Database, workspace: str) -> None:
    make.metric(db, workspace, "aov", unit="%")
    g = make.goal(db, workspace, "aov", "330", baseline="300")
    assert (g.target, g.baseline) == (D("3.3"), D(3))
    with db.session() as s:
        goals.checkin(s, workspace_id=workspace, number=1, value=D(310), percent=False, confidence=None, note=None,
                      user_id="U1")
    make.metric(db, workspace, "aov", unit="¥")
    with db.session(write=False) as s:
        g = goals.get_goal(s, workspace_id=workspace, number=1)
        assert (g.target, g.baseline) == (D(330), D(300))
        assert goals.progress(s, goal=g, today=date(2026, 11, 1)).current == D(310)
    make.metric(db, workspace, "aov", unit="")  # money to plain: same scale
    make.metric(db, workspace, "aov", unit="%")
    with db.session(write=False) as s:
        assert goals.get_goal(s, workspace_id=workspace, number=1).target == D("3.3")
