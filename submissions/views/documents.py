"""The pages' downloads of the documents that go out (session auth), and the page that
offers the 公开文本 bundles. The work is the API's responders (`submissions.documents.api`):
the same files, the same refusals, here as pages."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from submissions.api import authority_of
from submissions.documents.api import approval_sheet_file, publication_file, workbook_file
from submissions.errors import Unavailable
from submissions.views._common import error_page
from submissions.views.lists import LIST_PARAMS
from workflow.exceptions import InvalidInput, NotVisible
from workflow.selectors.documents import NothingToPublish, publication_bundles
from workflow.selectors.texts import text_listing


@login_required
@require_GET
def approval_sheet(request: HttpRequest, pk: int, extension: str) -> HttpResponse:
    try:
        return approval_sheet_file(authority_of(request), pk, extension)
    except NotVisible as error:
        raise Http404(error.message) from None
    except Unavailable as error:
        return error_page(request, error.message, error.status)


@login_required
@require_GET
def publications(request: HttpRequest) -> HttpResponse:
    """Each department and budget year with approved texts the user may see, with its
    bundle as Word and as PDF."""
    return render(
        request,
        "submissions/documents/publications.html",
        {"bundles": publication_bundles(authority_of(request))},
    )


@login_required
@require_GET
def publication(
    request: HttpRequest, department: str, fiscal_year: int, extension: str
) -> HttpResponse:
    try:
        return publication_file(authority_of(request), department, fiscal_year, extension)
    except (NothingToPublish, Unavailable) as error:
        return error_page(request, error.message, error.status)


@login_required
@require_GET
def texts_workbook(request: HttpRequest) -> HttpResponse:
    """The exchange workbook of the text list as it is filtered (the same query string)."""
    params = {name: request.GET.get(name, "") for name in LIST_PARAMS}
    try:
        listing = text_listing(authority_of(request), params)
    except InvalidInput as error:
        return error_page(request, error.message, 400)
    return workbook_file(listing.texts)
