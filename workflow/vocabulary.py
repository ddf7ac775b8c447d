"""The audit log's vocabulary: every event action, and the names people read for actions
and states, in the reader's language.

An event's action is one of `EVENTS` or the approve action of a stage some loaded workflow
version has (`is_event`); `workflow.audit.record` refuses any other, so that the log never
holds a word nobody can read. Details are stored language-neutral (codes and parameters)
and put into words here, on read.
"""

from typing import Any

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
    "urge": gettext_lazy("催办"),
    "create_account": gettext_lazy("创建账户"),
    "change_account": gettext_lazy("变更账户"),
    "sign_in": gettext_lazy("登录成功"),
    "sign_out": gettext_lazy("退出登录"),
    "sign_in_failed": gettext_lazy("登录失败"),
    "sign_in_locked_out": gettext_lazy("登录被锁定"),
    "password_changed": gettext_lazy("修改密码"),
    "token_issued": gettext_lazy("签发访问令牌"),
    "token_revoked": gettext_lazy("撤销访问令牌"),
    "two_factor_enabled": gettext_lazy("启用两步验证"),
    "two_factor_disabled": gettext_lazy("停用两步验证"),
    "two_factor_failed": gettext_lazy("两步验证失败"),
    "recovery_codes_generated": gettext_lazy("生成恢复码"),
    "recovery_code_used": gettext_lazy("使用恢复码"),
    "refusals_summarised": gettext_lazy("被拒绝尝试汇总"),
    "audit_head_restored": gettext_lazy("恢复链头"),
    "audit_verify_requested": gettext_lazy("完整校验请求"),
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
    from workflow.states import Administrator, Role

    if role in Role.values:
        return str(Role(role).label)
    if role in Administrator.values:
        return str(Administrator(role).label)
    declared = catalog().declared_roles.get(role)
    return declared.name if declared else role


# Why an attempt was refused: the reason a Refusal carries and the log stores (with its
# parameters), and its sentence, made in the reader's language when it is read.
REFUSALS = {
    "text_not_found": gettext_lazy("项目文本不存在。"),
    "revision_not_found": gettext_lazy("修订不存在。"),
    "notification_not_found": gettext_lazy("通知不存在。"),
    "delegation_not_found": gettext_lazy("委托不存在。"),
    "delegation_revoked": gettext_lazy("此委托已撤销。"),
    "admin_only_accounts": gettext_lazy("只有系统管理员可以创建或变更账户。"),
    "admin_only_roles": gettext_lazy("只有安全管理员可以授予或收回角色。"),
    "token_not_found": gettext_lazy("访问令牌不存在。"),
    "token_already_revoked": gettext_lazy("此访问令牌已撤销。"),
    "admin_only_workflows": gettext_lazy("只有系统管理员可以发布或迁移审批流程。"),
    "two_factor_required": gettext_lazy("您的账户必须使用两步验证，不能停用。"),
    "administrator_holds_one_role": gettext_lazy(
        "三员分立：%(user)s 已是%(held)s，不能再授予“%(role)s”。"
        "系统管理员、安全管理员、审计管理员各用一个专用账户，不兼任其他角色。"
    ),
    "administrators_do_not_act": gettext_lazy(
        "三员分立：%(administrator)s不能编辑、提交或审核项目文本。"
    ),
    "auditors_only": gettext_lazy("只有审计人或审计管理员可以查看或校验审计日志。"),
    "wrong_old_password": gettext_lazy("原密码不正确。"),
    "not_a_drafter": gettext_lazy("您不是该部门的编制人。"),
    "not_editable": gettext_lazy("“%(state)s”状态的文本不能编辑。"),
    "may_not_edit": gettext_lazy("只有本部门的编制人或被授权人可以编辑。"),
    "may_not_share": gettext_lazy("只有本部门的编制人可以共享此文本。"),
    "may_not_submit": gettext_lazy("只有本部门的编制人或被授权人可以提交。"),
    "not_the_submitter": gettext_lazy("只有提交人可以撤回。"),
    "already_decided": gettext_lazy("审核人已处理此修订，不能撤回。"),
    "not_a_stage_reviewer": gettext_lazy("您不是此阶段的审核人。"),
    "wrong_state": gettext_lazy("当前状态“%(state)s”下不能执行“%(action)s”。"),
    "stale_version": gettext_lazy(
        "版本已过期：您看到的是第 %(seen)s 版，当前为第 %(current_version)s 版，请刷新后重试。"
    ),
    "sod_author": gettext_lazy("职责分离：您（或您代理的人）编制或提交过此文本，不能审核它。"),
    "sod_two_stages": gettext_lazy("职责分离：您（或您代理的人）已在另一审核阶段通过此修订。"),
    "already_approved": gettext_lazy(
        "您（或您代理的人）已在本阶段通过此修订，同一人不能重复通过。"
    ),
    "lane_complete": gettext_lazy("您所在的审核通道（%(lanes)s）已达到规定人数，无需再通过。"),
    "quorum_unreachable": gettext_lazy(
        "“%(stage)s”阶段的审核通道 %(lane)s 无法达到规定人数（需要 %(need)d 人，"
        "符合职责分离的只有 %(have)d 人），请先调整人员。"
    ),
    "already_signer": gettext_lazy("%(user)s 已是本阶段的审核人。"),
    "may_not_urge": gettext_lazy("只有此文本的编制人可以催办。"),
    "already_urged": gettext_lazy(
        "本工作日已催办过此文本，每个工作日只能催办一次，请下一个工作日再催办。"
    ),
    "stage_missing_in_target": gettext_lazy(
        "版本 %(version)s 没有这些文本所在的阶段，不能迁移：%(texts)s"
    ),
}


# Why a token was revoked (workflow.services.tokens), as the audit log's readers see it.
TOKEN_REVOCATION_REASONS = {
    "owner": gettext_lazy("本人撤销"),
    "administrator": gettext_lazy("管理员撤销"),
    "account_deactivated": gettext_lazy("账户已停用"),
    "password_changed": gettext_lazy("密码已更改"),
}


# The ways into the product a sign-in event names (workflow.services.signin).
WAYS_IN = {
    "page": gettext_lazy("登录页面"),
    "admin": gettext_lazy("管理后台"),
    "token": gettext_lazy("令牌接口"),
}


def _worded(name: str, value: Any) -> Any:
    """A parameter as people read it: states, stages, actions and roles by their names."""
    if name == "state" or name == "stage":
        return state_label(value)
    if name == "action":
        return event_label(value)
    if name in ("role", "administrator"):
        return role_label(value)
    if name == "held" and isinstance(value, list):
        return "、".join(role_label(role) for role in value)
    if name == "lanes" and isinstance(value, list):
        return "、".join(role_label(role) for role in value)
    if name == "lane":
        return f"{role_label(value)}（{value}）"
    if name == "texts" and isinstance(value, list):
        return ", ".join(f"#{pk}" for pk in value)
    return value


def refusal_message(reason: str, params: dict[str, Any]) -> str:
    """A refusal's sentence in the active language; a reason this version does not know
    (a newer one wrote it) is shown as its code."""
    template = REFUSALS.get(reason)
    if template is None:
        return reason
    try:
        return str(template) % {name: _worded(name, value) for name, value in params.items()}
    except (KeyError, TypeError, ValueError):
        return str(template)


def event_note(detail: dict[str, Any]) -> str:
    """What a stored refusal says, for the reader: from its reason and parameters; an event
    written before reasons were stored this way keeps the sentence it was stored with."""
    if detail.get("refusal"):
        return refusal_message(detail["refusal"], detail.get("params") or {})
    return str(detail.get("message") or "")
