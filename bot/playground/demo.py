"""`mktbot playground --demo`: a believable marketing team with three months of history, seeded once per team.

Everything is dated relative to `today`, so the demo looks current whenever it is started: daily KPIs for
five channels (weekly seasonality, a slow trend and a promotion spike around the most recent shopping
festival, 双十一 when it is within the last three months), goals on and off pace, a finished and a live
campaign, tasks in every state, feedback, one closed retrospective, the e-commerce channel's team language
(Chinese) and the digest and report schedules. The channel history the bot would have posted meanwhile (the
last digests, last week's report, the retrospective's thread) is posted by bot.playground.history.

Chinese text here is written as the team writes it: no spaces between Chinese words, full-width punctuation
(tests/unit/test_demo_text.py checks it).
"""

from __future__ import annotations

import importlib.util
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.services import campaigns, feedback, goals, kpis, languages, retros, schedules, tasks
from bot.services.refs import ensure_workspace
from storage.db import Database
from storage.models import KpiValue, Workspace
from storage.types import utcnow

DEMO_MARK = "Acme Marketing (playground demo)"
HISTORY_DAYS = 92


@dataclass(frozen=True)
class ChannelProfile:
    name: str
    visits: int  # a plain weekday
    conversion: float
    aov: float  # ¥ per order
    spend: int  # ¥ per day
    festival_lift: float  # visits on the festival day, times a normal day
    weekend: float  # Saturday lift


CHANNELS = [
    ChannelProfile("天猫", 42_000, 0.032, 268, 18_000, 5.0, 1.22),
    ChannelProfile("JD", 26_000, 0.028, 312, 11_000, 4.2, 1.15),
    ChannelProfile("email", 6_500, 0.045, 198, 900, 2.6, 0.92),
    ChannelProfile("paid search", 15_000, 0.021, 240, 14_000, 2.8, 1.05),
    ChannelProfile("social", 21_000, 0.012, 176, 8_000, 3.4, 1.30),
]
WEEKDAY = [0.93, 0.95, 0.97, 1.0, 1.04, 1.0, 0.96]  # Monday first; Saturday uses the channel's own lift

# (month, day, campaign name): the finished promotion is the most recent one 5 to 85 days ago
FESTIVALS = [
    (11, 11, "双十一大促"),
    (12, 12, "双十二年终盛典"),
    (1, 15, "年货节"),
    (3, 8, "三八女王节"),
    (5, 20, "520告白季"),
    (6, 18, "618年中大促"),
    (8, 18, "818发烧节"),
    (9, 9, "99划算节"),
]


@dataclass(frozen=True)
class Team:
    """Who is who in the demo (Slack user ids) and where the bot posts."""

    ana: str  # marketing director
    bo: str  # media operations
    lilei: str  # planning (zh-CN)
    sara: str  # research
    marketing_channel: str  # the daily digest and the weekly report, in English
    campaigns_channel: str
    meimei: str | None = None  # e-commerce operations (zh-CN)
    ecommerce_channel: str | None = None  # team language Chinese: its own digest and the festival's retro

    @property
    def retro_channel(self) -> str:
        return self.ecommerce_channel or self.marketing_channel

    @property
    def ops(self) -> str:
        return self.meimei or self.lilei


DIGEST_AT = (9, 30)  # #marketing's daily digest, local time
DIGEST_AT_ECOMMERCE = (9, 0)  # the e-commerce channel's, in Chinese
REPORT_AT = (10, 0)  # the weekly report, Mondays
RETRO_START = (9, 0)  # the retrospective's thread parent, the day it starts (as automatic retros start)
RETRO_CLOSE = (17, 30)


def local_time(day: date, at: tuple[int, int], zone: str) -> datetime:
    """`day` at `at` in `zone`, as an aware UTC datetime."""
    return datetime.combine(day, time(*at), tzinfo=ZoneInfo(zone)).astimezone(UTC)


@dataclass(frozen=True)
class Reply:
    """A team member's reply in the retrospective's thread, with the Slack ts it was posted at."""

    user: str
    text: str
    ts: str


def retro_replies(team: Team, *, retro_day: date, today: date, zone: str) -> list[Reply]:
    """What the team wrote in the festival retrospective's thread (in Chinese: the channel's language), and when.
    `<@U…>` is a mention as Slack sends it; `due:` as the bot reads it."""
    action_due = (today + timedelta(days=10)).isoformat()
    lines = [
        ((10, 12), team.lilei, "做得好：直播带货贡献了大促当天31%的GMV\n做得好：预售定金人数同比增长40%"),
        ((11, 40), team.ops, "不足：零点后结算页卡了将近20分钟\n不足：爆款精华上午10点前就断货了，客单价也被拉低"),
        ((14, 5), team.bo, "下次：分时段发券，把零点的流量峰值削平一些\n"
                           f"行动：<@{team.bo}> 下次大促前完成结算页压测 due:{action_due}"),
        ((16, 30), team.ops, f"行动：<@{team.ops}> 整理大促新客画像，给下一档活动选品做参考 due:{action_due}\n"
                             "改进：京东和天猫的库存要分开预警，别再等断货才补"),
    ]
    return [Reply(user, text, f"{int(local_time(retro_day, at, zone).timestamp())}.000000") for at, user, text in lines]


def festival(today: date) -> tuple[date, str]:
    candidates = []
    for year in (today.year - 1, today.year):
        for month, day, name in FESTIVALS:
            when = date(year, month, day)
            if 5 <= (today - when).days <= 85:
                candidates.append((when, name))
    if not candidates:  # not reachable with the list above; a plain date keeps the demo working anyway
        return today - timedelta(days=30), "月中大促"
    double_eleven = [c for c in candidates if c[1].startswith("双十一")]
    return double_eleven[0] if double_eleven else max(candidates)


def promotion_lift(day: date, festival_day: date, peak: float) -> float:
    """Pre-sale ramp for ten days, the festival spike, a day of 返场, then a slump while buyers wait."""
    delta = (day - festival_day).days
    if -10 <= delta < 0:
        return 1.15 + 0.06 * (10 + delta)
    if delta == 0:
        return peak
    if delta == 1:
        return 1 + (peak - 1) * 0.35
    if 2 <= delta <= 4:
        return 0.86
    return 1.0


def channel_day(ch: ChannelProfile, day: date, festival_day: date, trend: float, rng: random.Random) -> dict[str, int]:
    """One channel's visits, orders, gmv and spend on one day."""
    week = ch.weekend if day.weekday() == 5 else WEEKDAY[day.weekday()]
    lift = promotion_lift(day, festival_day, ch.festival_lift)
    visits = ch.visits * trend * week * lift * rng.uniform(0.94, 1.06)
    conversion = ch.conversion * (1.55 if day == festival_day else 1.0) * rng.uniform(0.92, 1.08)
    orders = visits * conversion
    gmv = orders * ch.aov * rng.uniform(0.95, 1.05) * (0.9 if day == festival_day else 1.0)
    in_promo = -10 <= (day - festival_day).days <= 1
    spend = ch.spend * (2.4 if in_promo else 1.0) * rng.uniform(0.9, 1.1)
    return {"visits": round(visits), "orders": round(orders), "gmv": round(gmv), "spend": round(spend)}


def daily_kpis(today: date, festival_day: date, seed: int = 11) -> dict[tuple[str, str, date], int]:
    """{(metric, channel, day): value} for the last HISTORY_DAYS days up to yesterday."""
    rng = random.Random(seed)
    values: dict[tuple[str, str, date], int] = {}
    for back in range(HISTORY_DAYS, 0, -1):
        day = today - timedelta(days=back)
        trend = 1 + 0.0015 * (HISTORY_DAYS - back)
        for ch in CHANNELS:
            for metric, value in channel_day(ch, day, festival_day, trend, rng).items():
                values[(metric, ch.name, day)] = value
    return values


def log_day(db: Database, *, workspace_id: str, day: date, user_id: str) -> bool:
    """The demo team keeps logging: one more day of KPIs (when the clock panel moves past midnight).
    False when that day already has values or the workspace is not the seeded demo."""
    if not already_seeded(db, workspace_id):
        return False
    with db.session() as session:
        exists = session.scalar(
            select(KpiValue.id).where(KpiValue.workspace_id == workspace_id, KpiValue.day == day).limit(1)
        )
        if exists is not None:
            return False
        metric_ids = {m.name: m.id for m in kpis.list_metrics(session, workspace_id=workspace_id)}
        festival_day, _name = festival(day)
        rng = random.Random(day.toordinal())
        now = utcnow()
        for ch in CHANNELS:
            for metric, value in channel_day(ch, day, festival_day, 1 + 0.0015 * HISTORY_DAYS, rng).items():
                if metric in metric_ids:
                    session.add(KpiValue(
                        workspace_id=workspace_id, metric_id=metric_ids[metric], channel=ch.name, day=day,
                        value=Decimal(value), user_id=user_id, created_at=now, updated_at=now,
                    ))
    return True


def already_seeded(db: Database, workspace_id: str) -> bool:
    with db.session(write=False) as session:
        row = session.get(Workspace, workspace_id)
        return row is not None and row.name == DEMO_MARK


def seed_demo(db: Database, *, workspace_id: str, team: Team, today: date, zone: str) -> bool:
    """Seed the demo team; False (and nothing written) when this team was seeded before."""
    if already_seeded(db, workspace_id):
        return False
    with db.session() as session:
        ensure_workspace(session, workspace_id, DEMO_MARK)
        row = session.get(Workspace, workspace_id)
        assert row is not None
        row.name, row.timezone = DEMO_MARK, zone
        _seed(session, workspace_id=workspace_id, team=team, today=today, zone=zone)
    return True


def _d(value: float | int, places: int = 0) -> Decimal:
    return Decimal(str(round(value, places)))


def _seed(session: Session, *, workspace_id: str, team: Team, today: date, zone: str) -> None:
    ws = workspace_id
    festival_day, festival_name = festival(today)
    values = daily_kpis(today, festival_day)

    # ---- KPIs: four logged metrics, two ratios computed from summed parts ----------------------------------
    for spec in (
        kpis.MetricSpec("visits"),
        kpis.MetricSpec("orders"),
        kpis.MetricSpec("gmv", unit="¥"),
        kpis.MetricSpec("spend", unit="¥", better="down"),
        kpis.MetricSpec("conversion", numerator="orders", denominator="visits"),
        kpis.MetricSpec("aov", unit="¥", numerator="gmv", denominator="orders"),
    ):
        kpis.define_metric(session, workspace_id=ws, spec=spec, user_id=team.ana)
    metric_ids = {m.name: m.id for m in kpis.list_metrics(session, workspace_id=ws)}
    now = utcnow()
    # One bulk insert: log_value row by row would be two thousand round trips for the same rows.
    session.add_all(
        KpiValue(
            workspace_id=ws, metric_id=metric_ids[metric], channel=channel, day=day, value=Decimal(value),
            user_id=team.bo, created_at=now, updated_at=now,
        )
        for (metric, channel, day), value in values.items()
    )
    session.flush()

    def total(metric: str, start: date, end: date, channel: str | None = None) -> int:
        return sum(
            v for (m, ch, d), v in values.items() if m == metric and start <= d <= end and channel in (None, ch)
        )

    # ---- goals: two on pace, one at risk, one off pace ---------------------------------------------------
    start, due = today - timedelta(days=55), today + timedelta(days=35)
    quarter = f"Q{(due.month - 1) // 3 + 1}"
    days_total = (due - start).days + 1
    days_done = (today - start).days + 1
    yesterday = today - timedelta(days=1)

    def projected(metric: str, channel: str | None = None) -> float:
        return total(metric, start, yesterday, channel) / days_done * days_total

    gmv_target = _d(projected("gmv") * 0.96, -5)
    g_gmv = goals.create_goal(session, workspace_id=ws, user_id=team.ana, data=goals.GoalCreate(
        title=f"{quarter} GMV ¥{gmv_target / 1_000_000:.1f}m across all channels", metric="gmv", target=gmv_target,
        target_percent=False, due_on=due, start_on=start, currency="¥", owner_id=team.ana,
        slack_channel_id=team.marketing_channel,
    ))
    jd_target = _d(projected("gmv", "JD") * 0.92, -4)
    goals.create_goal(session, workspace_id=ws, user_id=team.ana, data=goals.GoalCreate(
        title=f"京东旗舰店GMV达成{jd_target / 10_000:.0f}万元", metric="gmv", target=jd_target, target_percent=False,
        due_on=due, start_on=start, currency="¥", owner_id=team.lilei, parent=g_gmv.number, channel="JD",
        slack_channel_id=team.marketing_channel,
    ))
    orders_target = _d(projected("orders", "天猫") * 1.45, -3)
    g_orders = goals.create_goal(session, workspace_id=ws, user_id=team.ana, data=goals.GoalCreate(
        title=f"天猫订单量突破{orders_target / 10_000:.1f}万单", metric="orders", target=orders_target, target_percent=False,
        due_on=due, start_on=start, owner_id=team.bo, channel="天猫", slack_channel_id=team.marketing_channel,
    ))
    # conversion (a ratio, a lift from a baseline: goals.progress paces it along the way from the baseline to the
    # target): from a baseline below today's rate, at about 85 % of the pace the deadline needs (at risk)
    current = total("orders", start, yesterday, "email") / total("visits", start, yesterday, "email")
    baseline = current * 0.9
    elapsed = min(days_done / (days_total + 1), 1.0)
    conv_target = Decimal(str(round(baseline + (current - baseline) / (elapsed * 0.85), 4)))
    g_conv = goals.create_goal(session, workspace_id=ws, user_id=team.ana, data=goals.GoalCreate(
        title="Email conversion +10%", metric="conversion", target=conv_target, target_percent=True, due_on=due,
        start_on=start, baseline=Decimal(str(round(baseline, 4))), baseline_percent=True, owner_id=team.sara, channel="email",
        slack_channel_id=team.marketing_channel,
    ))

    # ---- campaigns: the festival (finished) and the next one (live) ---------------------------------------
    # Campaign spend (media, coupons, KOL fees) in proportion to the revenue on its channels: ROI of about
    # 4-5x, as a marketplace promotion reports it; budgets a little above what was or will be spent.
    promo_start, promo_end = festival_day - timedelta(days=10), festival_day + timedelta(days=1)
    promo_channels = ["天猫", "JD", "email", "paid search", "social"]  # every channel the festival lifts
    promo_revenue = sum(total("gmv", promo_start, promo_end, ch) for ch in promo_channels)
    promo_spend = promo_revenue / 5.6
    finished = campaigns.create_campaign(session, workspace_id=ws, user_id=team.ana, data=campaigns.CampaignCreate(
        name=festival_name, start_on=promo_start, end_on=promo_end, channels=promo_channels,
        budget=_d(promo_spend * 1.08, -4), currency="¥", goal=g_gmv.number, audience="25至40岁女性，老客召回与新客拉新",
        theme="预售定金、跨店满减、直播带货", slack_channel_id=team.campaigns_channel,
    ))
    shares = {"天猫": 0.42, "JD": 0.26, "paid search": 0.2, "social": 0.12}
    for ch, share in shares.items():
        for day, part in ((promo_start, 0.3), (festival_day - timedelta(days=3), 0.3), (festival_day, 0.4)):
            campaigns.add_spend(session, workspace_id=ws, number=finished.number, amount=_d(promo_spend * share * part, -2),
                                channel=ch, day=day, user_id=team.bo)
    campaigns.add_risk(session, workspace_id=ws, number=finished.number, user_id=team.bo,
                       text="爆款精华库存不足，开售第一小时就可能售罄（已追加备货30%）")
    campaigns.add_risk(session, workspace_id=ws, number=finished.number, user_id=team.ana,
                       text="零点流量峰值：去年结算页超时，今年提前压测并准备排队页")
    campaigns.add_document(session, workspace_id=ws, number=finished.number, user_id=team.lilei,
                           url="https://docs.example.com/promo/plan", title=f"{festival_name}策划方案")

    live_name = "双十二预热" if 0 < (date(today.year, 12, 12) - today).days <= 40 else "会员周"
    live_start, live_end = today - timedelta(days=4), today + timedelta(days=18)
    live_channels = ["天猫", "JD", "email", "social"]
    live_spend = sum(total("gmv", live_start, yesterday, ch) for ch in live_channels) / 5.0
    live_days = (live_end - live_start).days + 1
    live = campaigns.create_campaign(session, workspace_id=ws, user_id=team.ana, data=campaigns.CampaignCreate(
        name=live_name, start_on=live_start, end_on=live_end, channels=live_channels,
        budget=_d(live_spend / 4 * live_days * 1.1, -4), currency="¥", goal=g_orders.number,
        audience="会员与沉睡老客", theme="会员专享券、KOC种草", slack_channel_id=team.campaigns_channel,
    ))
    for ch, share in (("天猫", 0.5), ("JD", 0.25), ("social", 0.2), ("email", 0.05)):
        campaigns.add_spend(session, workspace_id=ws, number=live.number, amount=_d(live_spend * share, -2), channel=ch,
                            day=today - timedelta(days=2), user_id=team.bo)
    campaigns.add_risk(session, workspace_id=ws, number=live.number, user_id=team.lilei,
                       text="首场直播的达人档期还没确认")

    # ---- tasks in every state ---------------------------------------------------------------------------
    def task(title: str, owner: str, *, due: int | None, status: str = "todo", reason: str | None = None,
             campaign: int | None = None, goal: int | None = None, start_in: int | None = None) -> None:
        row = tasks.create_task(session, workspace_id=ws, user_id=team.ana, data=tasks.TaskCreate(
            title=title, owner_id=owner, due_on=today + timedelta(days=due) if due is not None else None,
            start_on=today + timedelta(days=start_in) if start_in is not None else None, campaign=campaign, goal=goal,
            slack_channel_id=team.marketing_channel,
        ))
        if status != "todo":
            tasks.set_status(session, workspace_id=ws, number=row.number, status=status, reason=reason)

    task(f"{festival_name}主会场头图设计", team.lilei, due=-(today - festival_day).days - 9, status="done",
         campaign=finished.number)
    task("直播带货脚本第二版", team.lilei, due=-(today - festival_day).days - 2, status="done", campaign=finished.number)
    task(f"{live_name}海报设计", team.lilei, due=3, status="in_progress", campaign=live.number, start_in=-2)
    task("京东店铺首页改版", team.ops, due=5, status="blocked", reason="等京东审核新版头图", campaign=live.number)
    task("Win-back email to lapsed buyers", team.sara, due=1, campaign=live.number, goal=g_conv.number)
    task("Confirm the KOL line-up for the launch livestream", team.ana, due=6, campaign=live.number)
    task("月度经营复盘报告", team.bo, due=-3)
    task("Clean up paid search keywords", team.sara, due=-1, status="in_progress", goal=g_gmv.number)
    task("Competitor SWOT analysis", team.sara, due=None)

    # ---- feedback from customers and the team -----------------------------------------------------------
    for text, source, tags, campaign in (
        ("预售定金规则太复杂，不知道尾款什么时候付", "customer", ["pricing", "ux"], finished.number),
        ("Delivery took 6 days after the festival — too slow", "customer", ["logistics"], finished.number),
        ("直播间转化率是头图流量的3倍，下次继续约这位主播", "team", ["live", "content"], finished.number),
        ("Love the member-only coupon, but it expired too fast", "customer", ["membership", "pricing"], live.number),
        ("Subject line B lowered the email open rate; keep A", "team", ["email"], None),
    ):
        feedback.create_feedback(session, workspace_id=ws, user_id=team.sara, data=feedback.FeedbackCreate(
            text=text, source=source, tags=tags, campaign=campaign,
        ))

    # ---- the festival's retrospective, in the e-commerce channel (Chinese): replies, action items as tasks ------
    retro_day = min(promo_end + timedelta(days=3), today - timedelta(days=1))
    retro = retros.start_retro(session, workspace_id=ws, channel=team.retro_channel, kind="campaign",
                               today=retro_day, user_id=team.ana, campaign_number=finished.number)
    for reply in retro_replies(team, retro_day=retro_day, today=today, zone=zone):
        retros.apply_reply(session, retro=retro, user_id=reply.user, message_ts=reply.ts, text=reply.text, kind="new")
    retros.close_retro(session, workspace_id=ws, number=retro.number, user_id=team.ana,
                       parse_due=lambda value: date.fromisoformat(value) if len(value) == 10 else None)
    retro.closed_at = local_time(retro_day, RETRO_CLOSE, zone)
    campaigns.close_campaign(session, workspace_id=ws, number=finished.number)

    # ---- the e-commerce channel reads in Chinese (as `/mkt language #channel zh-CN` sets it) ---------------
    if team.ecommerce_channel:
        languages.set_language(session, workspace_id=ws, channel=team.ecommerce_channel, language="zh-CN",
                               user_id=team.lilei)

    # ---- the daily digest (and the weekly KPI report, once the report job exists) -------------------------
    for channel, (hour, minute) in ((team.marketing_channel, DIGEST_AT), (team.ecommerce_channel, DIGEST_AT_ECOMMERCE)):
        if channel:
            schedules.create_schedule(session, workspace_id=ws, user_id=team.ana, data=schedules.ScheduleCreate(
                kind="digest", slack_channel_id=channel, hour=hour, minute=minute, timezone=zone, days=list(range(7)),
            ))
    if importlib.util.find_spec("bot.posts.report") is not None:
        schedules.create_schedule(session, workspace_id=ws, user_id=team.ana, data=schedules.ScheduleCreate(
            kind="report", slack_channel_id=team.marketing_channel, hour=REPORT_AT[0], minute=REPORT_AT[1], timezone=zone,
            days=[0],
        ))
