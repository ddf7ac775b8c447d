"""Text that no database will store, wherever it comes from (a body, a query, a file)."""

from django.utils.translation import gettext as _


def unstorable_reason(value: str) -> str | None:
    """Why `value` cannot be stored (NUL, or a lone surrogate that is not UTF-8), or None."""
    if "\x00" in value:
        return _("不能包含空字符（NUL）。")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return _("包含无效的 Unicode 字符（孤立代理项）。")
    return None
