"""The words of a notification, in the reader's language (gettext; zh-hans is the source)."""

import re
from collections.abc import Iterable

from django.conf import settings
from django.utils.translation import gettext as _

from notifications.models import Notification
from submissions.lifecycle import FixedAction
from workflow.machine import catalog, version_of

# Fixed actions and events; a stage's approval (any approve action) is `_approved`.
SENTENCES = {
    "submit": lambda: _("%(actor)s 提交了《%(title)s》，等待%(next)s。"),
    "approve_to_stage": lambda: _("%(actor)s %(done)s了《%(title)s》，等待%(next)s。"),
    "approved": lambda: _("%(actor)s 批准了《%(title)s》。"),
    "return": lambda: _("%(actor)s 退回了《%(title)s》，理由：%(comment)s"),
    "reject": lambda: _("%(actor)s 对《%(title)s》作出不予立项决定，理由：%(comment)s"),
    "remind": lambda: _("《%(title)s》在“%(stage)s”阶段已到处理期限，请尽快处理。"),
    "escalate": lambda: _("《%(title)s》在“%(stage)s”阶段逾期未处理，请督办。"),
    "add_signer": lambda: _("%(actor)s 请您在“%(stage)s”阶段加签《%(title)s》。"),
    "urge": lambda: _("%(actor)s 催办：请审批《%(title)s》"),
}


def _stage_name(notification: Notification) -> str:
    """The stage's name in the reader's language (built-in names are translated; a loaded
    workflow's names are the county's own words)."""
    code = notification.stage
    if not code:
        return ""
    return _(catalog().stage_name(code, version_of(notification.text)))


def _template(notification: Notification):
    kind = notification.kind
    if kind in SENTENCES:
        return SENTENCES[kind]
    if kind in FixedAction.values:
        return None
    # A stage's approval: on to the next stage, or approved at the last.
    return SENTENCES["approve_to_stage"] if notification.stage else SENTENCES["approved"]


# Long enough for any action's sentence with a full title; short enough for a mail client's list.
SUBJECT_MAX_CHARS = 200

# Every character that ends a line somewhere (CR, LF, VT, FF, the file/group/record
# separators, NEL, U+2028, U+2029: what str.splitlines() and mail clients break on) and every
# other control character. A title, a reason and an actor's name may hold any of them; in a
# header they would be refused (BadHeaderError) or split it.
_NOT_IN_A_HEADER = re.compile(r"[ \x00-\x1f\x7f-\x9f\u2028\u2029]+")


def one_line(value: str, limit: int = SUBJECT_MAX_CHARS) -> str:
    """value as one header line: each run of line breaks, control characters and spaces
    becomes one space; cut to `limit` characters with an ellipsis."""
    line = _NOT_IN_A_HEADER.sub(" ", value).strip()
    if len(line) > limit:
        line = line[: limit - 1].rstrip() + "…"
    return line


def text_link(text_id: int) -> str:
    return f"{settings.SITE_URL}/texts/{text_id}/"


def sentence(notification: Notification) -> str:
    """What happened, in the active language. The reason keeps its line breaks (pages and the
    API show it as written); e-mail makes its subject one line with `one_line`."""
    template = _template(notification)
    if template is None:
        return notification.kind
    actor = notification.actor_name or _("系统")
    if notification.on_behalf_of_name:
        actor = _("%(actor)s（代 %(principal)s）") % {
            "actor": actor,
            "principal": notification.on_behalf_of_name,
        }
    stage = _stage_name(notification)
    return template() % {
        "actor": actor,
        "title": notification.text.title,
        "comment": notification.comment,
        "stage": stage,
        # "等待待审批" is never right: a stage named 待X is waited for as X.
        "next": stage[1:] if stage.startswith("待") else stage,
        "done": _done(notification),
    }


def _done(notification: Notification) -> str:
    from workflow.policy import action_label

    return action_label(notification.kind)


def email(notification: Notification) -> tuple[str, str]:
    """(subject, body) of one notification's e-mail; the sender makes the subject one line."""
    line = sentence(notification)
    body = "\n\n".join(
        [line, _("查看：%(link)s") % {"link": text_link(notification.text_id)}, footer()]
    )
    return _("【预算项目文本】") + line, body


def digest(notifications: Iterable[Notification]) -> tuple[str, str]:
    items = list(notifications)
    lines = [f"- {_indented(sentence(n))}\n  {text_link(n.text_id)}" for n in items]
    subject = _("【预算项目文本】今日通知 %(n)d 条") % {"n": len(items)}
    return subject, "\n".join([*lines, "", footer()])


def _indented(sentence: str) -> str:
    # A reason of several lines stays inside its item of the digest's list.
    return "\n  ".join(sentence.splitlines())


def footer() -> str:
    return _("此邮件由部门预算项目文本审批系统自动发送。可在通知设置中关闭邮件或改为每日汇总。")
