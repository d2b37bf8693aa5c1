"""Marketing channels by any of their names: 京东 = JD, 天猫 = Tmall, 抖音 = Douyin, 邮件 = email built in, and the
team's own aliases (`/kpi channel alias 京东商城 JD`).

Channels are stored as text on KPI values, goals, campaigns and spend. Every path that takes a typed channel
(logging, goals, `channel:` filters, campaigns' channels and spend, imports) names it through `resolve`: the
spelling first logged in the workspace among all the names of that channel (letter case aside), else the name as
typed. Filters match every name of the channel (`names`), so values stored under two spellings before an alias
existed still count as one channel; `merge` moves them under the first spelling, by the replace rule of
`/kpi log`.

An alias is a row (workspace, alias key, channel key): the spelling `alias_key` stands for the channel whose key
is `channel_key`. The built-in pairs behave as such rows until the team overrides one; a row whose two keys are
equal takes a spelling out of its group (`/kpi channel unalias 京东`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.orm import Session

from bot.errors import UserError, check_length
from bot.services.refs import ensure_workspace
from storage.models import Campaign, CampaignSpend, ChannelAlias, Goal, KpiValue, Metric
from storage.prepared import Prepared, Unit
from storage.types import utcnow

#: (the name teams type in Chinese, the Latin one): each pair is one channel in every workspace unless undone
BUILT_IN: tuple[tuple[str, str], ...] = (("京东", "JD"), ("天猫", "Tmall"), ("抖音", "Douyin"), ("邮件", "email"))
NAME_MAX = 100  # the longest channel name, however it comes in
_IN_SIZE = 8  # a channel's names are looked up in groups of this many (one prepared statement)


#: Slack markup a channel name may not hold: a name is shown in posts, and `<!channel>`, `<!subteam^…>`, `<@U…>`
#: or `<#C…>` (typed, or escaped as `&lt;…`) must never read as a ping or a link there.
_MARKUP = re.compile(r"(?:<|&lt;)\s*[!@#]", re.IGNORECASE)


def check_name(name: str) -> None:
    """A channel name or alias typed into `/kpi channel alias`: refused when it holds Slack markup (not echoed)."""
    if _MARKUP.search(name):
        raise UserError.of("error.channel.markup")


def key(name: str) -> str:
    """A channel name as compared: words joined by single spaces, lower-cased (as SQL's lower() does)."""
    return " ".join(name.split()).lower()


def _built_in_roots() -> dict[str, str]:
    roots: dict[str, str] = {}
    for chinese, latin in BUILT_IN:
        roots[key(chinese)] = roots[key(latin)] = key(latin)
    return roots


@dataclass(frozen=True)
class AliasMap:
    """Each aliased name's channel key, built-ins overlaid by the workspace's rows."""

    roots: dict[str, str]
    own: frozenset[str] = field(default_factory=frozenset)  # the keys the team set (not built in)

    def root(self, name_key: str) -> str:
        return self.roots.get(name_key, name_key)

    def group(self, name_key: str) -> list[str]:
        """Every key naming the same channel as `name_key`, itself included."""
        root = self.root(name_key)
        keys = {root, name_key} | {k for k, r in self.roots.items() if r == root}
        return sorted(k for k in keys if self.root(k) == root)


_ALIASES = Prepared(
    select(ChannelAlias.alias_key, ChannelAlias.channel_key).where(ChannelAlias.workspace_id == bindparam("workspace_id"))
)


def alias_map(unit: Unit, *, workspace_id: str) -> AliasMap:
    roots = _built_in_roots()
    rows = _ALIASES.rows(unit, {"workspace_id": workspace_id})
    roots.update({str(alias): str(channel) for alias, channel in rows})
    return AliasMap(roots, frozenset(str(alias) for alias, _ in rows))


_FIRST_SPELLING = Prepared(
    select(KpiValue.id, KpiValue.channel)
    .where(
        KpiValue.workspace_id == bindparam("workspace_id"),
        func.lower(KpiValue.channel).in_([bindparam(f"k{i}") for i in range(_IN_SIZE)]),
    )
    .order_by(KpiValue.id)
    .limit(1)
)


def _chunks(keys: list[str]) -> Iterable[dict[str, str]]:
    for start in range(0, len(keys), _IN_SIZE):
        chunk = keys[start : start + _IN_SIZE]
        yield {f"k{i}": chunk[i % len(chunk)] for i in range(_IN_SIZE)}


def first_spelling(unit: Unit, *, workspace_id: str, keys: list[str]) -> str | None:
    """The spelling logged first (lowest id) among the channels with one of these keys, if any was logged."""
    found: list[tuple[int, str]] = []
    for params in _chunks(keys):
        found += [(int(i), str(c)) for i, c in _FIRST_SPELLING.rows(unit, {"workspace_id": workspace_id, **params})]
    return min(found)[1] if found else None


def resolve(unit: Unit, *, workspace_id: str, channel: str) -> str:
    """The one name every path stores and shows a typed channel under: the spelling first logged among all its
    names ("jd" and "京东" are "JD" once "JD" was logged first), else the name as typed (spaces tidied)."""
    channel = " ".join(channel.split())
    if not channel:
        return ""
    keys = alias_map(unit, workspace_id=workspace_id).group(key(channel))
    return first_spelling(unit, workspace_id=workspace_id, keys=keys) or channel


def names(unit: Unit, *, workspace_id: str, channel: str) -> list[str]:
    """Every key of the channel `channel` names, for filters: `lower(channel) IN names`."""
    return alias_map(unit, workspace_id=workspace_id).group(key(channel))


@dataclass(frozen=True)
class Canon:
    """The one way two channel strings are compared: `of` gives the channel a name stands for (京东, JD and jd
    give one key), whatever spelling it was stored or typed in. '' (no channel) is its own channel."""

    aliases: AliasMap

    def of(self, name: str | None) -> str:
        return self.aliases.root(key(name or ""))

    def same(self, a: str | None, b: str | None) -> bool:
        return self.of(a) == self.of(b)

    def group(self, name: str) -> list[str]:
        """Every key of the channel `name` names, for SQL filters: `lower(channel) IN group`."""
        return self.aliases.group(key(name))


def canon(unit: Unit, *, workspace_id: str) -> Canon:
    return Canon(alias_map(unit, workspace_id=workspace_id))


def shown_names(unit: Unit, *, workspace_id: str, spellings: Iterable[str]) -> dict[str, str]:
    """Each stored spelling → the name its channel is shown under: the spelling first logged in the workspace
    among all the channel's names. A channel stored under one spelling only is shown under it (no query)."""
    found = canon(unit, workspace_id=workspace_id)
    by_root: dict[str, list[str]] = {}
    for spelling in dict.fromkeys(spellings):
        by_root.setdefault(found.of(spelling), []).append(spelling)
    out: dict[str, str] = {}
    for root, group in by_root.items():
        shown = group[0]
        if len(group) > 1:
            shown = first_spelling(unit, workspace_id=workspace_id, keys=found.aliases.group(root)) or group[0]
        out.update(dict.fromkeys(group, shown))
    return out


def known(session: Session, *, workspace_id: str) -> list[str]:
    """The workspace's channels under their shown names, in the order first logged ('' left out)."""
    amap = alias_map(session, workspace_id=workspace_id)
    first = func.min(KpiValue.id)
    rows = session.execute(
        select(KpiValue.channel, first).where(KpiValue.workspace_id == workspace_id).group_by(KpiValue.channel)
        .order_by(first)
    ).all()
    seen: dict[str, str] = {}
    for channel, _ in rows:
        if channel:
            seen.setdefault(amap.root(key(str(channel))), str(channel))
    return list(seen.values())


# ---- the team's aliases -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Replaced:
    metric: str
    day: date
    old: Decimal
    new: Decimal
    spelling: str  # the spelling whose value won or lost


@dataclass
class Merged:
    """What `merge` did: the channel's shown name, values moved per spelling, values replaced (the later logged
    one kept), and the goals, campaigns and spend whose channel was renamed."""

    channel: str
    moved: dict[str, int] = field(default_factory=dict)
    replaced: list[Replaced] = field(default_factory=list)
    goals: int = 0
    campaigns: int = 0
    spend: int = 0

    @property
    def anything(self) -> bool:
        return bool(self.moved or self.goals or self.campaigns or self.spend)


@dataclass(frozen=True)
class AliasResult:
    alias: str
    channel: str  # the channel's shown name
    added: bool  # False when the two names already were one channel
    merged: Merged


def _built_in_spelling(name_key: str) -> str:
    return next((name for pair in BUILT_IN for name in pair if key(name) == name_key), name_key)


def _set_root(
    session: Session, *, workspace_id: str, name_key: str, root: str, user_id: str | None, spelling: str | None = None
) -> None:
    """Make the name `name_key` stand for the channel `root`; `spelling` is how the team wrote it (kept otherwise)."""
    row = session.scalars(
        select(ChannelAlias).where(ChannelAlias.workspace_id == workspace_id, ChannelAlias.alias_key == name_key)
    ).first()
    built_in = _built_in_roots().get(name_key, name_key)
    if root == built_in:  # the built-in answer (or no alias at all): no row needed
        if row is not None:
            session.delete(row)
        return
    if row is None:
        ensure_workspace(session, workspace_id)
        session.add(ChannelAlias(workspace_id=workspace_id, alias=spelling or _built_in_spelling(name_key),
                                 alias_key=name_key, channel_key=root, created_by=user_id, created_at=utcnow()))
    else:
        row.channel_key = root
        row.alias = spelling or row.alias


def shown_name(unit: Unit, *, workspace_id: str, name_key: str, amap: AliasMap | None = None) -> str:
    """How a channel is shown: its first logged spelling, else as the team or the built-in list spells it."""
    amap = amap or alias_map(unit, workspace_id=workspace_id)
    found = first_spelling(unit, workspace_id=workspace_id, keys=amap.group(name_key))
    if found:
        return found
    spelled = dict(_SPELLINGS.rows(unit, {"workspace_id": workspace_id}))
    return str(spelled.get(name_key) or _built_in_spelling(name_key))


_SPELLINGS = Prepared(
    select(ChannelAlias.alias_key, ChannelAlias.alias).where(ChannelAlias.workspace_id == bindparam("workspace_id"))
)


def add_alias(session: Session, *, workspace_id: str, alias: str, channel: str, user_id: str | None) -> AliasResult:
    """`alias` (and every name it already had) becomes a name of `channel`; values stored under the names are
    merged under the channel's first spelling (see `merge`)."""
    alias, channel = " ".join(alias.split()), " ".join(channel.split())
    check_length(alias, field="channel", limit=NAME_MAX)
    check_length(channel, field="channel", limit=NAME_MAX)
    if not alias or not channel:
        raise UserError.of("error.channel.alias_args")
    check_name(alias)
    check_name(channel)
    amap = alias_map(session, workspace_id=workspace_id)
    root = amap.root(key(channel))
    added = amap.root(key(alias)) != root
    group = amap.group(key(alias))
    if added and len(group) > 1 and _has_data(session, workspace_id=workspace_id, name_keys=group):
        # the name already belongs to another channel with data: joining the two would merge (and replace) that
        # channel's values, so it is taken out of its channel first, on purpose
        owner = shown_name(session, workspace_id=workspace_id, name_key=amap.root(key(alias)), amap=amap)
        raise UserError.of("error.channel.alias_taken", alias=alias, owner=owner,
                           channel=shown_name(session, workspace_id=workspace_id, name_key=root, amap=amap))
    if added:
        for name_key in amap.group(key(alias)):
            _set_root(session, workspace_id=workspace_id, name_key=name_key, root=root, user_id=user_id,
                      spelling=alias if name_key == key(alias) else None)
        session.flush()
    merged = merge(session, workspace_id=workspace_id, channel=channel)
    return AliasResult(alias, merged.channel, added, merged)


def _has_data(session: Session, *, workspace_id: str, name_keys: list[str]) -> bool:
    """Anything stored under one of these names: a value, a goal, a campaign's channel or a spend."""
    wanted = set(name_keys)
    if session.scalar(select(KpiValue.id).where(KpiValue.workspace_id == workspace_id,
                                                func.lower(KpiValue.channel).in_(sorted(wanted))).limit(1)):
        return True
    if session.scalar(select(CampaignSpend.id).where(CampaignSpend.workspace_id == workspace_id,
                                                     func.lower(CampaignSpend.channel).in_(sorted(wanted))).limit(1)):
        return True
    goals = session.scalars(select(Goal.channel).where(Goal.workspace_id == workspace_id, Goal.channel.is_not(None)))
    if any(key(g) in wanted for g in goals if g):
        return True
    campaigns = session.scalars(select(Campaign.channels).where(Campaign.workspace_id == workspace_id))
    return any(key(c) in wanted for chs in campaigns for c in (chs or ()))


def remove_alias(session: Session, *, workspace_id: str, alias: str, user_id: str | None) -> tuple[str, str]:
    """Take `alias` out of its channel's names (a built-in one too); returns (alias, the channel it named). Values
    already merged stay where they are."""
    alias = " ".join(alias.split())
    amap = alias_map(session, workspace_id=workspace_id)
    alias_key = key(alias)
    others = [k for k in amap.group(alias_key) if k != alias_key]
    if not others:
        raise UserError.of("error.channel.not_an_alias", name=alias)
    shown = shown_name(session, workspace_id=workspace_id, name_key=others[0], amap=amap)
    if amap.root(alias_key) == alias_key:  # the others were named after this one: they keep one of theirs
        new_root = others[0]
        for other in others:
            _set_root(session, workspace_id=workspace_id, name_key=other, root=new_root, user_id=user_id)
    _set_root(session, workspace_id=workspace_id, name_key=alias_key, root=alias_key, user_id=user_id, spelling=alias)
    session.flush()
    return alias, shown


@dataclass(frozen=True)
class ChannelGroup:
    channel: str  # its shown name
    names: list[str]  # its other names
    built_in: bool
    spellings: list[str]  # the spellings its values are stored under (more than one: `merge` joins them)


def list_groups(session: Session, *, workspace_id: str) -> list[ChannelGroup]:
    amap = alias_map(session, workspace_id=workspace_id)
    stored = session.execute(
        select(KpiValue.channel, func.min(KpiValue.id)).where(KpiValue.workspace_id == workspace_id)
        .group_by(KpiValue.channel).order_by(func.min(KpiValue.id))
    ).all()
    by_root: dict[str, list[str]] = {}
    for spelling, _ in stored:
        if spelling:
            by_root.setdefault(amap.root(key(str(spelling))), []).append(str(spelling))
    groups: list[ChannelGroup] = []
    seen: set[str] = set()
    spelled = {row.alias_key: row.alias for row in session.scalars(
        select(ChannelAlias).where(ChannelAlias.workspace_id == workspace_id))}
    for name_key in sorted(amap.roots):
        root = amap.root(name_key)
        if root in seen:
            continue
        members = amap.group(name_key)
        if len(members) < 2:
            continue
        seen.add(root)
        spellings = by_root.get(root, [])
        shown = spellings[0] if spellings else spelled.get(root) or _built_in_spelling(root)
        others = [spelled.get(k) or _built_in_spelling(k) for k in members if k != key(shown)]
        built_in = not any(k in amap.own for k in members)
        groups.append(ChannelGroup(shown, others, built_in, spellings))
    return groups


def merge(session: Session, *, workspace_id: str, channel: str) -> Merged:
    """Everything stored under any name of `channel` moves under its first spelling. Two values of one metric on
    one day follow `/kpi log`'s replace rule: the one logged later is kept and the other is reported replaced."""
    names_of = names(session, workspace_id=workspace_id, channel=channel)
    target = resolve(session, workspace_id=workspace_id, channel=channel)
    result = Merged(target)
    rows = session.scalars(
        select(KpiValue).where(KpiValue.workspace_id == workspace_id, func.lower(KpiValue.channel).in_(names_of),
                               KpiValue.channel != target)
        .order_by(KpiValue.id)
    ).all()
    metric_names = dict(session.execute(select(Metric.id, Metric.name).where(Metric.workspace_id == workspace_id)).all())
    for row in rows:
        kept = session.scalars(
            select(KpiValue).where(KpiValue.metric_id == row.metric_id, KpiValue.channel == target, KpiValue.day == row.day)
        ).first()
        result.moved[row.channel] = result.moved.get(row.channel, 0) + 1
        if kept is None:
            row.channel = target
            session.flush()
            continue
        metric = str(metric_names.get(row.metric_id, "?"))
        if row.updated_at > kept.updated_at:
            if row.value != kept.value:
                result.replaced.append(Replaced(metric, row.day, kept.value, row.value, row.channel))
            kept.value, kept.user_id, kept.updated_at = row.value, row.user_id, row.updated_at
        elif row.value != kept.value:
            result.replaced.append(Replaced(metric, row.day, row.value, kept.value, target))
        session.execute(delete(KpiValue).where(KpiValue.id == row.id))
        session.flush()
    for goal in session.scalars(select(Goal).where(Goal.workspace_id == workspace_id, Goal.channel.is_not(None))):
        if goal.channel and goal.channel != target and key(goal.channel) in names_of:
            goal.channel = target
            result.goals += 1
    for campaign in session.scalars(select(Campaign).where(Campaign.workspace_id == workspace_id)):
        renamed = list(dict.fromkeys(target if key(c) in names_of else c for c in campaign.channels))
        if renamed != list(campaign.channels):
            campaign.channels = renamed
            result.campaigns += 1
    for spend in session.scalars(select(CampaignSpend).where(CampaignSpend.workspace_id == workspace_id,
                                                            CampaignSpend.channel != target)):
        if spend.channel and key(spend.channel) in names_of:
            spend.channel = target
            result.spend += 1
    session.flush()
    return result
