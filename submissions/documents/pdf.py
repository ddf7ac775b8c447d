"""HTML to PDF with WeasyPrint, never reaching anything outside the document.

The templates carry their style inline and name no image, so a document needs nothing
fetched; the fetcher refuses every URL all the same (http, https, ftp, file, data), so that
user-written text can never make the server reach the network or read a local file.
Fonts come from the system (fontconfig), not through the fetcher.
"""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from submissions.errors import Unavailable


class FetchRefused(ValueError):
    pass


def _refusing_fetcher() -> Any:
    from weasyprint.urls import URLFetcher

    class RefusingFetcher(URLFetcher):
        """Every resource a document names is refused; WeasyPrint logs and goes on."""

        def fetch(self, url: str, headers: Any = None) -> Any:
            raise FetchRefused(f"documents fetch nothing: {url[:80]}")

    return RefusingFetcher()


def html_to_pdf(html: str) -> bytes:
    # Imported here: WeasyPrint loads pango at import, which the rest of the app never needs,
    # and a server without pango still serves everything but the PDFs.
    try:
        from weasyprint import HTML
    except OSError:
        raise Unavailable(
            _("此服务器缺少生成 PDF 所需的 pango 库：请先下载 Word 版本，并请管理员安装。")
        ) from None

    return HTML(string=html, base_url=None, url_fetcher=_refusing_fetcher()).write_pdf()


def render_pdf(template: str, context: dict[str, Any]) -> bytes:
    return html_to_pdf(render_to_string(template, context))
