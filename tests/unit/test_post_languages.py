"""Channel posts rendered from hand-built data in both languages: every branch of the digest (urgent tasks, owner
groups, the unassigned, goals without data, KPIs with coverage and significance notes, campaigns at every stage,
open retros, a clear day) and its alert with the GMV split; retro parents and summaries; the language checks."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from bot import anomalies
from bot.i18n import EN, ZH_CN
from bot.render.digest import alert_reply, digest_reply
from bot.render.retro import parent_post, summary_post
from bot.services.digest import DigestData, KpiAlert
from bot.services.retros import RetroGoal, RetroKpi, RetroResults
from storage.models import Retro, RetroNote, Task
from tests.support.language import not_chinese, not_english
from tests.support.text import texts
from tests.unit.test_digest_render import TODAY, campaign, empty, full, kpi

D = Decimal
#: the names typed in tests/unit/test_digest_render.full() and below
TYPED = ["KOL brief", "Stock check", "no data", "Fix landing page", "IT", "Banner for 双十一", "Reply to reviews",
         "1m visits", "3k orders", "Weibo followers", "weibo followers", "Q4 GMV 双十一", "visits", "conversion", "CPA",
         "退货", "opens", "gmv", "Black Friday 黑五", "双十二", "Singles' week", "十一月 retrospective", "Q3", "天猫", "JD",
         "email", "orders", "C-1 双十一 预售", "直播带货效果好", "横幅晚了", "整理直播数据", "the stream sold out",
         "late banner", "sum up the data"]


def with_alerts(data: DigestData) -> DigestData:
    day = TODAY - timedelta(days=1)
    check = anomalies.DayCheck(day=day, value=D(33000), expected=D(90000), low=D(76500), high=D(103500), z=-9.0,
                               verdict="low", campaigns=(), history_points=8)
    live = anomalies.DayCheck(day=day, value=D(150000), expected=D(90000), low=D(76500), high=D(103500), z=9.0,
                              verdict="campaign", campaigns=("C-1",), history_points=8)

    def factor(name: str, change: float) -> anomalies.Factor:
        return anomalies.Factor(name, D(1), D(1), change, change, None)  # type: ignore[arg-type]

    split = anomalies.GmvSplit(D(90000), D(33000), -0.63, -1.0, factor("traffic", -0.02), factor("conversion", -0.6),
                               factor("aov", 0.01))
    move = anomalies.GmvMove("天猫", anomalies.Funnel(None, None, None), anomalies.Funnel(None, None, None), split, None)
    gmv = kpi(7, "gmv", now="33000", trailing="90000", unit="¥", verdict="bad")
    gmv = type(gmv)(**{**gmv.__dict__, "check": check, "channels": ("天猫",), "missing": ("JD", "email", "", "抖音"),
                       "alerts": (KpiAlert("gmv", "¥", "天猫", check, move), KpiAlert("gmv", "¥", None, check))})
    campaign_day = kpi(8, "orders", now="900", trailing="300", verdict="flat")
    campaign_day = type(campaign_day)(**{**campaign_day.__dict__, "check": live})
    return DigestData(today=data.today, owners=data.owners, goals=data.goals, kpis=[*data.kpis, gmv, campaign_day],
                      campaigns=[*data.campaigns, campaign(5, "双十二", stage="live", budget="10000", spend="15000")],
                      retros=data.retros)


def retro_posts(locale: str) -> list[list[str]]:
    retro = Retro(number=1, title="C-1 双十一 预售", kind="campaign", period_start=date(2026, 11, 1),
                  period_end=date(2026, 11, 11))
    month = Retro(number=2, title="November 2026", kind="month", period_start=date(2026, 11, 1),
                  period_end=date(2026, 11, 30))
    results = RetroResults(
        goals=[RetroGoal("G-1", "Q4 GMV 双十一", D(4200), D(10000), None, "at risk", D("0.42")),
               RetroGoal("G-2", "3k orders", None, D(3000), None, None, None)],
        kpis=[RetroKpi("orders", D(468), D(418), None, "up", 7, 11),
              RetroKpi("CPA", D(9), D(8), "¥", "down", 11, 11),
              RetroKpi("visits", D(100), None, None, "up", 3, 11, why_not="thin"),
              RetroKpi("opens", None, None, None, "up", 0, 11, why_not="none"),
              RetroKpi("gmv", D(5), D(5), "¥", "up", 11, 11)],
        spend=D(120000), budget=D(300000), currency="¥", roi=D("0.5"),
    )
    notes = [RetroNote(category=c, text=x, user_id="U0ANA") for c, x in
             (("well", "直播带货效果好" if locale == ZH_CN else "the stream sold out"),
              ("not", "横幅晚了" if locale == ZH_CN else "late banner"), ("note", "opens"))]
    actions = [Task(number=9, title="整理直播数据" if locale == ZH_CN else "sum up the data", owner_id="U0BO",
                    due_on=date(2026, 11, 27)), Task(number=10, title="opens", owner_id=None, due_on=None)]
    return [
        [*texts(parent_post(retro, results, today=TODAY, locale=locale).blocks)],
        [*texts(parent_post(month, RetroResults(), today=TODAY, locale=locale).blocks)],
        [*texts(summary_post(retro, notes, actions, today=TODAY, locale=locale).blocks)],
        [*texts(summary_post(retro, [], [], today=TODAY, locale=locale).blocks)],
        [parent_post(retro, results, today=TODAY, locale=locale).text, summary_post(retro, notes, actions, today=TODAY,
                                                                                     locale=locale).text],
    ]


def digest_posts(locale: str) -> list[str]:
    data = with_alerts(full())
    alert = alert_reply(data.kpis, TODAY, locale)
    assert alert is not None
    out = []
    for reply in (digest_reply(data, today=TODAY, locale=locale), digest_reply(empty(), today=TODAY, locale=locale), alert):
        out += [reply.text or "", *texts(reply.blocks)]
    return out


@pytest.mark.parametrize("post", ["digest", "retro"])
def test_chinese_posts_have_no_english_and_english_posts_no_chinese(post: str) -> None:
    for locale, check in ((ZH_CN, not_chinese), (EN, not_english)):
        chunks = digest_posts(locale) if post == "digest" else [line for lines in retro_posts(locale) for line in lines]
        for text in chunks:
            assert not check(text, TYPED), (locale, check(text, TYPED), text)


def test_the_chinese_digest_uses_chinese_amounts_dates_and_words() -> None:
    text = "\n".join(digest_posts(ZH_CN))
    for expected in ("每日摘要 · 11月23日 周一", "30万", "*逾期5天*", "对周日而言异常", "原因：流量-2%、转化率-60%、客单价+1%",
                     "缺少JD、email、无渠道…", "活动C-1进行中", "今天很清爽", "R-1", "还没有备注"):
        assert expected in text, expected
    retro = "\n".join(line for lines in retro_posts(ZH_CN) for line in lines)
    for expected in ("复盘R-2：2026年11月", "以 `做得好：` 开头", "`问题：`", "`改进：`", "`行动：`", "`went well:`",
                     "¥12万（预算¥30万）", "4,200，目标10,000（42%） · 有风险", "*R-1已结束* · 3条备注"):
        assert expected in retro, expected


def test_the_checks_find_what_they_look_for() -> None:
    assert not_chinese("每日摘要 · 3 due today")
    assert not_chinese("目标: 250万") and not_chinese("目标 (截止)") and not_chinese("今天 到期")
    assert not not_chinese("11月23日 周一 · `/kpi log visits 12500` · <@U0ANA> · T-3 KOL brief", ["KOL brief"])
    assert not_english("Daily digest · 今天") and not not_english("T-1 Banner for 双十一", ["Banner for 双十一"])
