"""The audit log's vocabulary: every event action, and the names people read for actions
and states, in the reader's language.

An event's action is one of `EVENTS` or the approve action of a stage some loaded workflow
version has (`is_event`); `workflow.audit.record` refuses any other, so that the log never
holds a word nobody can read. Details are stored language-neutral (codes and parameters)
and put into words here, on read.
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from submissions.lifecycle import FixedAction, FixedState
from workflow.machine import catalog

EVENTS = {
    **dict(FixedAction.choices),
    "create": gettext_lazy("创建"),
    "edit": gettext_lazy("编辑"),
    "import": gettext_lazy("导入"),
    "add_signer": gettext_lazy("加签"),
    "grant_role": gettext_lazy("授予角色"),
    "revoke_role": gettext_lazy("撤销角色"),
    "grant_text_access": gettext_lazy("共享文本"),
    "revoke_text_access": gettext_lazy("取消共享"),
    "remind": gettext_lazy("到期提醒"),
    "escalate": gettext_lazy("逾期督办"),
    "create_account": gettext_lazy("创建账户"),
    "change_account": gettext_lazy("变更账户"),
    "sign_in_failed": gettext_lazy("登录失败"),
    "sign_in_locked_out": gettext_lazy("登录被锁定"),
    "refusals_summarised": gettext_lazy("被拒绝尝试汇总"),
    "audit_head_restored": gettext_lazy("恢复链头"),
    "delegation_given": gettext_lazy("委托"),
    "delegation_revoked": gettext_lazy("撤销委托"),
    "workflow_loaded": gettext_lazy("发布审批流程版本"),
    "workflow_migrated": gettext_lazy("迁移审批流程版本"),
}


def is_event(action: str) -> bool:
    return action in EVENTS or action in catalog().approve_actions


def event_label(action: str) -> str:
    """An event's or action's name for people: a stage's approval reads "<stage>通过"."""
    if action in EVENTS:
        return str(EVENTS[action])
    from workflow.policy import action_label

    return action_label(action)


def state_label(state: str, version_id: int | None = None) -> str:
    """A state's name: a fixed one's, or the stage's in the text's version (translated for
    the built-in names, the county's own words for a loaded workflow's)."""
    if state in FixedState.values:
        return str(FixedState(state).label)
    if not state:
        return ""
    return _(catalog().stage_name(state, version_id))


def role_label(role: str) -> str:
    """A role's name: a built-in one's, translated, or what the workflow declaring it says."""
    from workflow.states import Role

    if role in Role.values:
        return str(Role(role).label)
    declared = catalog().declared_roles.get(role)
    return declared.name if declared else role
