"""Sharing one text with a co-drafter (change) or a reader (view)."""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm, remove_perm

from submissions.models import ProjectText
from workflow import audit
from workflow.exceptions import InvalidInput, NotPermitted, NotVisible
from workflow.permissions import Authority
from workflow.services._shared import lock_visible_text
from workflow.states import Role

# --- Sharing one text ------------------------------------------------------------------------

TEXT_ACCESS = {
    "change": "change_projecttext",  # a co-drafter: may edit and submit this text
    "view": "view_projecttext",  # may read this text
}


def _text_access(access: Any) -> str:
    if access not in TEXT_ACCESS:
        raise InvalidInput({"access": [_("应为 change 或 view。")]})
    return TEXT_ACCESS[access]


def _share(
    action: str, actor: AbstractBaseUser | None, user: AbstractBaseUser, text_id: Any, access: Any
) -> bool:
    codename = _text_access(access)
    authority = Authority.of(actor) if actor is not None else None
    with transaction.atomic(durable=True):
        if authority is None:  # the command line
            text = ProjectText.objects.select_for_update().filter(pk=text_id).first()
            if text is None:
                raise NotVisible("text_not_found")
        else:
            text = lock_visible_text(authority, text_id)
            if not authority.holds(Role.DRAFTER, text.department_id):
                raise NotPermitted("may_not_share", text_id=text.pk)
        held = ProjectText.objects.filter(
            pk=text.pk,
            projecttextuserobjectpermission__user=user,
            projecttextuserobjectpermission__permission__codename=codename,
        ).exists()
        if (action == "grant_text_access") == held:
            return False
        change = assign_perm if action == "grant_text_access" else remove_perm
        change(f"submissions.{codename}", user, text)
        audit.record_for_text(
            text,
            actor=actor,
            action=action,
            from_state=text.state,
            to_state=text.state,
            revision=text.revision or None,
            detail={"user": user.get_username(), "access": access},
        )
        return True


def grant_text_access(
    *, actor: AbstractBaseUser | None, user: AbstractBaseUser, text_id: Any, access: str
) -> bool:
    """Share one text: `change` makes `user` a co-drafter of it, `view` lets them read it."""
    return _share("grant_text_access", actor, user, text_id, access)


def revoke_text_access(
    *, actor: AbstractBaseUser | None, user: AbstractBaseUser, text_id: Any, access: str
) -> bool:
    return _share("revoke_text_access", actor, user, text_id, access)
