"""Every Web API call the bot makes, while serving a representative set of commands, is one Slack knows,
with every argument Slack's own OpenAPI spec requires."""

from __future__ import annotations

from tests.support import slack_spec
from tests.support.harness import ANA, BO, LILEI, MARKETING, Bot, dump

SESSION: list[tuple[str, str]] = [
    (ANA, "/mkt help"),
    (ANA, "/kpi define conversion = orders / visits"),
    (LILEI, "/kpi log visits 1,000 orders 30 channel:天猫 date:yesterday"),
    (ANA, "/kpi show conversion by:channel"),
    (ANA, '/goal add "Q4 转化率" metric:conversion target:4% by:eoq owner:@bo'),
    (ANA, '/campaign add "双十一 预售" start:11-01 end:11-30 channels:天猫,JD budget:¥200k goal:G-1'),
    (ANA, "/task add Banner @李雷 due:fri campaign:C-1"),
    (BO, "/task add 直播 脚本 <@U0BO|bo> due:+3d"),
    (BO, "/task block T-2 waiting for approval"),
    (LILEI, "/task done T-1"),
    (ANA, "/task list all"),
    (ANA, "/goal checkin G-1 3.5% confidence:7 on plan"),
    (ANA, "/goal show G-1"),
    (ANA, "/campaign spend C-1 ¥5,000 channel:天猫"),
    (ANA, "/campaign show C-1"),
    (LILEI, '/feedback "优惠券 太复杂" campaign:C-1 from:customer #checkout'),
    (ANA, "/feedback list #checkout"),
    (ANA, "/mkt schedule digest 09:30 days:mon-fri"),
    (ANA, "/mkt schedule list"),
    (ANA, "/task add Banner @nobody"),  # an error reply still looks people up
    (ANA, "/mkt digest now"),  # a message posted through the Web API, off the ack path
]


def test_every_web_api_call_conforms_to_slacks_spec(bot: Bot) -> None:
    for user, line in SESSION:
        said = bot.say(user, line, channel=MARKETING)
        assert said.status == 200 and "Something went wrong" not in said, f"{line}: {said}"
    bot.slack.wait_for("chat.postMessage", where=lambda a: a.get("channel") == MARKETING, timeout=10)
    bot.slack.wait_for("users.info", where=lambda a: a.get("user") == LILEI, timeout=5)

    methods = {call.method for call in bot.slack.calls}
    assert {"users.list", "users.info", "chat.postMessage"} <= methods, dump(bot)
    slack_spec.assert_calls_conform(bot.slack)
