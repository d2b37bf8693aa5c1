"""Units of ratio metrics and of goals: AOV is money, not a percentage; a bare target on a money ratio is kept
as typed; a % goal's baseline is read on its own; a unit changed to or from % rescales the goals on it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from bot.services import goals, kpis
from storage.db import Database

D = Decimal


def define(db: Database, ws: str, name: str, **kw: str) -> str | None:
    with db.session() as s:
        return kpis.define_metric(s, workspace_id=ws, spec=kpis.MetricSpec(name, **kw), user_id="U1").metric.unit


def goal(db: Database, ws: str, metric: str, target: str, *, percent: bool = False, baseline: str | None = None,
         baseline_percent: bool = False) -> tuple[Decimal, Decimal | None]:
    with db.session() as s:
        g = goals.create_goal(s, workspace_id=ws, user_id="U1", data=goals.GoalCreate(
            title=f"{metric} goal", metric=metric, target=D(target), target_percent=percent, due_on=date(2026, 12, 31),
            start_on=date(2026, 10, 1), baseline=D(baseline) if baseline is not None else None,
            baseline_percent=baseline_percent,
        ))
        return g.target, g.baseline


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
        define(db, workspace, name, unit=unit)
    assert define(db, workspace, "aov", numerator="gmv", denominator="orders") == expected


def test_ratio_units(db: Database, workspace: str) -> None:
    assert define(db, workspace, "conversion", numerator="orders", denominator="visits") == "%"
    define(db, workspace, "revenue", unit="¥")
    define(db, workspace, "spend", unit="¥")
    assert define(db, workspace, "roas", numerator="revenue", denominator="spend") == "%"
    assert define(db, workspace, "cac", numerator="spend", denominator="new customers") == "¥"
    assert define(db, workspace, "orders per yuan", numerator="orders", denominator="spend") is None
    assert define(db, workspace, "ctr", numerator="clicks", denominator="impressions", unit="") is None, "as asked"


def test_a_bare_target_on_a_money_ratio_is_kept_as_typed(db: Database, workspace: str) -> None:
    define(db, workspace, "gmv", unit="¥")
    define(db, workspace, "aov", numerator="gmv", denominator="orders")
    assert goal(db, workspace, "aov", "330") == (D(330), None)


def test_a_percent_goals_baseline_is_read_on_its_own(db: Database, workspace: str) -> None:
    define(db, workspace, "ctr", unit="%")
    assert goal(db, workspace, "ctr", "0.035", percent=True, baseline="2.5") == (D("0.035"), D("0.025"))
    assert goal(db, workspace, "ctr", "4", baseline="2.5") == (D("0.04"), D("0.025"))
    assert goal(db, workspace, "ctr", "0.04", percent=True, baseline="1.5", baseline_percent=True) == (
        D("0.04"), D("1.5")), "typed as 150 %"


def test_a_unit_changed_to_or_from_percent_rescales_its_goals(db: Database, workspace: str) -> None:
    define(db, workspace, "aov", unit="%")
    assert goal(db, workspace, "aov", "330", baseline="300") == (D("3.3"), D(3))
    with db.session() as s:
        goals.checkin(s, workspace_id=workspace, number=1, value=D(310), percent=False, confidence=None, note=None,
                      user_id="U1")
    define(db, workspace, "aov", unit="¥")
    with db.session(write=False) as s:
        g = goals.get_goal(s, workspace_id=workspace, number=1)
        assert (g.target, g.baseline) == (D(330), D(300))
        assert goals.progress(s, goal=g, today=date(2026, 11, 1)).current == D(310)
    define(db, workspace, "aov", unit="")  # money to plain: same scale
    define(db, workspace, "aov", unit="%")
    with db.session(write=False) as s:
        assert goals.get_goal(s, workspace_id=workspace, number=1).target == D("3.3")
