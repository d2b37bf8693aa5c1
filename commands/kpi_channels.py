"""/kpi channel: the team's names for its marketing channels (京东 = JD), and values stored under two names merged."""

from __future__ import annotations

from bot.i18n import t
from bot.i18n.fmt import fmt_date, fmt_number
from bot.render.reply import Builder, Reply
from bot.services import channels as service
from bot.slack_text import esc
from commands.base import CommandContext, Usage, split_verb
from commands.grammar import ParseError, tokenize

USAGE = Usage(
    ("/kpi channel alias <name> <channel>", "/kpi channel unalias <name>", "/kpi channel aliases"),
    ("usage.kpi.channel_example", "usage.kpi.channel_builtin"),
)

MAX_REPLACED_SHOWN = 10


def _words(rest: str) -> list[str]:
    try:
        return [token.text for token in tokenize(rest)]
    except ParseError as exc:
        raise exc.with_usage(USAGE) from None


def merged_lines(merged: service.Merged, locale: str) -> list[str]:
    """What a merge did, in plain words: values moved per spelling, values replaced, records renamed."""
    channel = esc(merged.channel)
    if not merged.anything:
        return [t("kpi.channel.nothing", locale, channel=channel)]
    lines = []
    if merged.moved:
        spellings = t("list.separator", locale).join(t("kpi.channel.spelling_count", locale, name=esc(name), count=count)
                                                     for name, count in merged.moved.items())
        lines.append(t("kpi.channel.merged", locale, count=sum(merged.moved.values()), spellings=spellings,
                       channel=channel))
    if merged.replaced:
        items = [t("kpi.channel.replaced_item", locale, metric=esc(r.metric), day=fmt_date(r.day, None, locale),
                   old=fmt_number(r.old, None, locale), new=fmt_number(r.new, None, locale), spelling=esc(r.spelling))
                 for r in merged.replaced[:MAX_REPLACED_SHOWN]]
        if len(merged.replaced) > MAX_REPLACED_SHOWN:
            items.append("…")
        lines.append(t("kpi.channel.replaced", locale, count=len(merged.replaced), items=t("list.semicolon", locale).join(items)))
    if merged.goals or merged.campaigns or merged.spend:
        lines.append(t("kpi.channel.renamed", locale, goals=merged.goals, campaigns=merged.campaigns,
                       spend=merged.spend, channel=channel))
    return lines


def handle(text: str, ctx: CommandContext) -> Reply:
    """`/kpi channel …` (`text` is what follows `channel`)."""
    verb, rest = split_verb(text)
    loc = ctx.locale
    if verb in ("", "aliases", "list", "ls"):
        if rest:
            raise ParseError.of("error.command.takes_nothing", usage=USAGE, command="/kpi channel aliases", rest=rest)
        with ctx.db.session(write=False) as session:
            groups = service.list_groups(session, workspace_id=ctx.workspace_id)
        lines = []
        for group in groups:
            line = t("kpi.channel.list_item", loc, channel=esc(group.channel), names=t("list.separator", loc).join(esc(n) for n in group.names))
            if group.built_in:
                line += " " + t("kpi.channel.built_in", loc)
            if len(group.spellings) > 1:
                line += "\n  " + t("kpi.channel.split", loc, spellings=t("list.separator", loc).join(esc(s) for s in group.spellings),
                                   alias=esc(group.spellings[1]), channel=esc(group.spellings[0]))
            lines.append(line)
        return (Builder().section(t("kpi.channel.list_title", loc)).lines_section(lines)
                .context(t("kpi.channel.list_hint", loc)).build(text=t("kpi.channel.list_title", loc)))
    if verb == "alias":
        words = _words(rest)
        if len(words) != 2:
            raise ParseError.of("error.channel.alias_args", usage=USAGE)
        with ctx.db.session() as session:
            result = service.add_alias(session, workspace_id=ctx.workspace_id, alias=words[0], channel=words[1],
                                       user_id=ctx.user_id)
        typed = words[1]
        if result.added and result.channel.casefold() != typed.casefold():
            # the channel is shown under the spelling logged first, which may be neither name typed
            head = t("kpi.channel.added_shown", loc, alias=esc(result.alias), typed=esc(typed), channel=esc(result.channel))
        else:
            head = t("kpi.channel.added" if result.added else "kpi.channel.already", loc, alias=esc(result.alias),
                     channel=esc(result.channel))
        return Builder().section("\n".join([head, *merged_lines(result.merged, loc)])).build(text=head)
    if verb in ("unalias", "remove", "rm"):
        words = _words(rest)
        if len(words) != 1:
            raise ParseError.of("error.channel.unalias_args", usage=USAGE)
        with ctx.db.session() as session:
            alias, channel = service.remove_alias(session, workspace_id=ctx.workspace_id, alias=words[0],
                                                  user_id=ctx.user_id)
        said = t("kpi.channel.removed", loc, alias=esc(alias), channel=esc(channel))
        return Builder().section(said).build(text=said)
    raise ParseError.of("error.command.unknown_action", usage=USAGE, verb=verb, command="/kpi channel")
