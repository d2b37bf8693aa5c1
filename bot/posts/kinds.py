"""Every kind of post, by its outbox kind, and the kinds a schedule can post: the one place they are listed."""

from __future__ import annotations

from collections.abc import Mapping

from bot.posts import PostKind, ScheduledPost
from bot.posts.digest import ALERT, DIGEST
from bot.posts.notify import CHECKIN_NUDGE, NOTIFY
from bot.posts.nudge import NUDGE
from bot.posts.reminder import REMINDER
from bot.posts.report import REPORT
from bot.posts.retro import PARENT, SUMMARY

SCHEDULED: Mapping[str, ScheduledPost] = {post.kind: post for post in (DIGEST, REPORT)}
POSTS: Mapping[str, PostKind] = {post.kind: post for post in (DIGEST, ALERT, REPORT, PARENT, SUMMARY, REMINDER, NUDGE, NOTIFY,
                                                             CHECKIN_NUDGE)}
