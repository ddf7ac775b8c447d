from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    """`page` and `page_size`; a larger page_size is capped at 500 (DESIGN.md)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
