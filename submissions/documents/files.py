"""Sending a document: its media type, and a download name that may be Chinese.

Content-Disposition carries an ASCII `filename` for old clients and the real name as
`filename*=UTF-8''…` (RFC 5987 / RFC 6266), so that 新平县村级组织换届工作经费-审批表.docx
arrives under that name.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from django.http import HttpResponse

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PDF = "application/pdf"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MEDIA_TYPES = {"docx": DOCX, "pdf": PDF, "xlsx": XLSX}
# What a file name may not hold on any desk: path separators, quotes, control characters.
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')
NAME_MAX_CHARS = 120


def download_name(stem: str, extension: str) -> str:
    stem = _UNSAFE.sub("_", stem).strip(" ._") or "document"
    return f"{stem[:NAME_MAX_CHARS]}.{extension}"


def content_disposition(filename: str, fallback: str) -> str:
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def attachment(content: bytes, *, stem: str, fallback: str, extension: str) -> HttpResponse:
    """`content` as a download named `stem`.`extension`; `fallback` (ASCII) for clients that
    do not read RFC 5987."""
    response = HttpResponse(content, content_type=MEDIA_TYPES[extension])
    response["Content-Disposition"] = content_disposition(
        download_name(stem, extension), download_name(fallback, extension)
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
