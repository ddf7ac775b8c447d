from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param


class Pagination(PageNumberPagination):
    """`page` and `page_size`; a larger page_size is capped at 500 (DESIGN.md), one that is
    not a positive whole number is refused rather than silently replaced."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
            raise ValidationError({"page_size": ["应为正整数（最大 500）。"]})
        return min(int(raw), self.max_page_size)


class KeysetPagination(Pagination):
    """The audit log's pages (millions of rows, issue 12): the contract's `{count, next,
    previous, results}`, but `next` and `previous` carry a `cursor` (the id to go on after,
    or to stop before: read from the index, never an OFFSET), and `count` is exact only up
    to `AUDIT_EXACT_COUNT_LIMIT` rows, null beyond (counting millions costs more than the
    number is worth). The queryset must be ordered by `id`. A request naming `page` is
    answered as before, by page number with an exact count, for scripts written so."""

    cursor_query_param = "cursor"

    def paginate_queryset(self, queryset, request: Request, view=None):
        if request.query_params.get(self.page_query_param) is not None:
            self.numbered = True
            return super().paginate_queryset(queryset, request, view)
        self.numbered = False
        self.request = request
        size = self.get_page_size(request)
        direction, mark = self._cursor(request)
        self.count = self._bounded_count(queryset)
        if direction == "b":
            rows = list(queryset.filter(id__lt=mark).order_by("-id")[: size + 1])
            self.has_previous = len(rows) > size
            rows = rows[:size][::-1]
            self.has_next = queryset.filter(id__gte=mark).exists()
        else:
            after = queryset.filter(id__gt=mark) if mark is not None else queryset
            rows = list(after[: size + 1])
            self.has_next = len(rows) > size
            rows = rows[:size]
            self.has_previous = mark is not None and queryset.filter(id__lte=mark).exists()
        self.rows = rows
        return rows

    def _cursor(self, request: Request) -> tuple[str, int | None]:
        raw = request.query_params.get(self.cursor_query_param)
        if raw is None:
            return "a", None
        number = raw[1:]
        # Ids are 64-bit: a longer number would be a database error, not an empty page.
        fits = number.isascii() and number.isdigit() and len(number) <= 18
        if raw[:1] not in ("a", "b") or not fits:
            message = _("cursor 无效：应取自上一页的 next 或 previous 链接。")
            raise ValidationError({self.cursor_query_param: [message]})
        return raw[0], int(number)

    def _bounded_count(self, queryset) -> int | None:
        limit = settings.AUDIT_EXACT_COUNT_LIMIT
        found = queryset.order_by()[: limit + 1].count()
        return found if found <= limit else None

    def _link(self, cursor: str) -> str:
        url = self.request.build_absolute_uri()
        return replace_query_param(url, self.cursor_query_param, cursor)

    def get_paginated_response(self, data) -> Response:
        if self.numbered:
            return super().get_paginated_response(data)
        next_link = self._link(f"a{self.rows[-1].pk}") if self.has_next and self.rows else None
        previous = self._link(f"b{self.rows[0].pk}") if self.has_previous and self.rows else None
        return Response(
            {"count": self.count, "next": next_link, "previous": previous, "results": data}
        )

    def get_paginated_response_schema(self, schema: dict) -> dict:
        answer = super().get_paginated_response_schema(schema)
        answer["properties"]["count"]["nullable"] = True
        return answer

    def get_schema_operation_parameters(self, view) -> list[dict]:
        return [
            *super().get_schema_operation_parameters(view),
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "Where the page starts: taken from `next` or `previous`.",
                "schema": {"type": "string"},
            },
        ]
