"""The pages of drafters and reviewers (and everyone's home, login and logout)."""

from django.contrib.auth import views as auth_views
from django.urls import path

from config.login import LoginView
from submissions import views
from submissions.views import documents
from submissions.views.approval_form import approval_form
from submissions.views.password import password_change
from submissions.views.reports import report_csv, report_xlsx, reports
from submissions.views.tokens import access_token_revoke, access_tokens

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", password_change, name="password-change"),
    path("accounts/tokens/", access_tokens, name="access-tokens"),
    path("accounts/tokens/<int:pk>/revoke/", access_token_revoke, name="access-token-revoke"),
    path("texts/", views.text_list, name="text-list"),
    path("texts/new/", views.text_create, name="text-create"),
    path("texts/import/", views.text_import, name="text-import"),
    path("texts/export.xlsx", documents.texts_workbook, name="text-list-xlsx"),
    path("texts/amount-in-words/", views.amount_in_words, name="amount-in-words"),
    path("texts/<int:pk>/", views.text_detail, name="text-detail"),
    path("texts/<int:pk>/edit/", views.text_edit, name="text-edit"),
    path("texts/<int:pk>/act/", views.text_act, name="text-act"),
    path("texts/<int:pk>/add-signer/", views.text_add_signer, name="text-add-signer"),
    path("texts/<int:pk>/diff/", views.text_diff, name="text-diff"),
    path("texts/<int:pk>/approval-form/", approval_form, name="text-approval-form"),
    path(
        "texts/<int:pk>/approval-form.docx",
        documents.approval_sheet,
        {"extension": "docx"},
        name="text-approval-form-docx",
    ),
    path(
        "texts/<int:pk>/approval-form.pdf",
        documents.approval_sheet,
        {"extension": "pdf"},
        name="text-approval-form-pdf",
    ),
    path("publications/", documents.publications, name="publications"),
    path(
        "publications/<slug:department>/<int:fiscal_year>.docx",
        documents.publication,
        {"extension": "docx"},
        name="publication-docx",
    ),
    path(
        "publications/<slug:department>/<int:fiscal_year>.pdf",
        documents.publication,
        {"extension": "pdf"},
        name="publication-pdf",
    ),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/approve/", views.bulk_approve, name="bulk-approve"),
    path("delegations/", views.delegations, name="delegations"),
    path("delegations/<int:pk>/revoke/", views.delegation_revoke, name="delegation-revoke"),
    path("reports/", reports, name="reports"),
    path("reports/report.xlsx", report_xlsx, name="report-xlsx"),
    path("reports/<slug:table>.csv", report_csv, name="report-csv"),
]
