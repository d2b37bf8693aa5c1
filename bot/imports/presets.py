"""What the columns of known exports mean: the date, the channel, and each metric's canonical name.

A header is matched after `header_key` (case, spaces, brackets and units in brackets do not matter):
`支付金额(元)`, `支付金额` and ` 支付金额 ` are the same header. `generic` is always in use; a named preset adds its
own headers, and `auto` picks the preset that knows most of a file's headers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field


def header_key(header: str) -> str:
    text = " ".join(str(header).split()).casefold()
    text = re.sub(r"\s*[(（\[【][^)）\]】]*[)）\]】]\s*$", "", text)  # a unit in brackets: 支付金额(元), Cost (USD)
    return text.replace("_", " ").strip()


DATE_HEADERS = frozenset(header_key(h) for h in (
    "日期", "统计日期", "时间", "日期时间", "数据日期", "date", "day", "日", "stat date", "报告日期",
))
CHANNEL_HEADERS = frozenset(header_key(h) for h in (
    "渠道", "店铺", "店铺名称", "平台", "来源", "channel", "source", "session source", "session default channel group",
    "first user source", "platform", "store",
))
#: the two columns of a long file: one row per date, (channel,) metric and value
METRIC_HEADERS = frozenset(header_key(h) for h in ("指标", "指标名称", "metric", "metric name", "kpi"))
VALUE_HEADERS = frozenset(header_key(h) for h in ("值", "数值", "指标值", "value"))

#: columns that are numbers but not metrics
IGNORED_SUFFIXES = ("id", "编号", "序号", "编码")


@dataclass(frozen=True)
class Preset:
    name: str
    label: str
    metrics: dict[str, str]  # header key -> canonical metric name
    ratios: frozenset[str] = field(default_factory=frozenset)  # header keys of ratios: skipped, with a note


def _keys(mapping: dict[str, str]) -> dict[str, str]:
    return {header_key(h): name for h, name in mapping.items()}


GENERIC = Preset("generic", "generic", _keys({
    "gmv": "gmv", "销售额": "gmv", "成交额": "gmv", "成交金额": "gmv", "sales": "gmv",
    "revenue": "revenue", "收入": "revenue", "营收": "revenue",
    "visits": "visits", "访客数": "visits", "uv": "visits", "sessions": "visits",
    "orders": "orders", "订单数": "orders", "订单量": "orders",
    "spend": "spend", "cost": "spend", "花费": "spend", "消耗": "spend",
    "impressions": "impressions", "展现量": "impressions", "曝光量": "impressions", "展示数": "impressions",
    "clicks": "clicks", "点击量": "clicks", "点击数": "clicks",
    "conversions": "conversions", "转化数": "conversions",
    "pv": "pageviews", "浏览量": "pageviews", "pageviews": "pageviews",
}), frozenset(header_key(h) for h in ("转化率", "点击率", "ctr", "conversion rate", "roi", "roas", "客单价", "aov")))

PRESETS: dict[str, Preset] = {p.name: p for p in (
    GENERIC,
    Preset("sycm", "生意参谋 (Tmall)", _keys({
        "支付金额": "gmv", "访客数": "visits", "支付买家数": "orders", "支付订单数": "orders",
        "浏览量": "pageviews", "加购人数": "add_to_cart", "加购件数": "add_to_cart_items", "收藏人数": "favourites",
        "支付件数": "units", "退款金额": "refunds", "新访客数": "new_visits",
    }), frozenset(header_key(h) for h in ("支付转化率", "客单价", "uv价值", "跳失率", "老买家占比", "人均浏览量"))),
    Preset("jd", "京东商智 (JD)", _keys({
        "成交金额": "gmv", "下单金额": "order_value", "访客数": "visits", "成交客户数": "orders",
        "成交单量": "orders", "成交订单数": "orders", "浏览量": "pageviews", "加购客户数": "add_to_cart",
        "成交商品件数": "units",
    }), frozenset(header_key(h) for h in ("成交转化率", "客单价", "跳失率", "uv价值"))),
    Preset("oceanengine", "巨量引擎 (Douyin)", _keys({
        "消耗": "spend", "展示数": "impressions", "点击数": "clicks", "转化数": "conversions",
        "直播间观看人数": "live_viewers", "成交金额": "gmv", "直接成交金额": "gmv", "成交订单数": "orders",
    }), frozenset(header_key(h) for h in (
        "点击率", "转化率", "平均千次展现费用", "平均点击单价", "转化成本", "支付roi", "roi", "平均千次展示费用",
    ))),
    Preset("ga4", "GA4", _keys({
        "sessions": "visits", "users": "users", "total users": "users", "new users": "new_users",
        "purchase revenue": "revenue", "total revenue": "revenue", "transactions": "orders",
        "ecommerce purchases": "orders", "conversions": "conversions", "key events": "conversions",
        "views": "pageviews", "engaged sessions": "engaged_sessions",
    }), frozenset(header_key(h) for h in (
        "engagement rate", "bounce rate", "average engagement time", "session conversion rate", "views per session",
    ))),
    Preset("google_ads", "Google Ads", _keys({
        "cost": "spend", "impressions": "impressions", "impr.": "impressions", "clicks": "clicks",
        "conversions": "conversions", "conv. value": "conversion_value", "conversion value": "conversion_value",
        "all conv.": "all_conversions",
    }), frozenset(header_key(h) for h in (
        "ctr", "avg. cpc", "avg. cpm", "conv. rate", "cost / conv.", "conversion rate", "cost / conversion",
        "interaction rate", "search impr. share",
    ))),
)}

PRESET_CHOICES = ("auto", *PRESETS)


def pick(name: str, headers: list[str]) -> Preset:
    """The preset called `name`, or for `auto` the one that knows most of `headers` (generic on a tie)."""
    if name != "auto":
        return PRESETS[name]
    keys = {header_key(h) for h in headers}

    def known(preset: Preset) -> int:
        return len(keys & (set(preset.metrics) | preset.ratios))

    best = GENERIC
    for preset in PRESETS.values():
        if preset is not GENERIC and known(preset) > known(best):
            best = preset
    return best


def metric_for(preset: Preset, header: str) -> str | None:
    key = header_key(header)
    return preset.metrics.get(key) or GENERIC.metrics.get(key)


def is_ratio(preset: Preset, header: str) -> bool:
    key = header_key(header)
    return key in preset.ratios or key in GENERIC.ratios
