"""A JSON parser that answers 400, never 500, for anything a client can put in a body."""

from typing import Any

from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.parsers import JSONParser

from submissions.text_rules import unstorable_reason


def _first_unstorable(value: Any, path: str = "") -> tuple[str, str] | None:
    if isinstance(value, str):
        reason = unstorable_reason(value)
        return (path or "body", reason) if reason else None
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        key_problem = _first_unstorable(key, path) if isinstance(key, str) else None
        found = key_problem or _first_unstorable(item, f"{path}.{key}" if path else str(key))
        if found:
            return found
    return None


class StrictJSONParser(JSONParser):
    """DRF's parser, plus: nesting too deep is a 400 (DRF lets RecursionError through), and
    strings no database can store (NUL, lone surrogates) are refused naming where they are."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context=None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON nested too deeply.") from None
        try:
            found = _first_unstorable(data)
        except RecursionError:
            raise ParseError("JSON nested too deeply.") from None
        if found:
            where, reason = found
            raise ValidationError({where: [reason]})
        return data
