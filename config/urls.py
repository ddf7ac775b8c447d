from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from config import two_factor
from config.health import healthz
from config.login import TokenView
from notifications import api as notifications
from submissions import api as texts
from submissions.documents import api as documents
from workflow import api as workflow

api_v1 = [
    path("auth/token/", TokenView.as_view(), name="api-token"),
    path("auth/tokens/", workflow.AccessTokenList.as_view(), name="api-tokens"),
    path("auth/tokens/<int:pk>/", workflow.AccessTokenDetail.as_view(), name="api-token-detail"),
    path("me/", workflow.Me.as_view(), name="api-me"),
    path("me/password/", workflow.MePassword.as_view(), name="api-me-password"),
    path("departments/", texts.DepartmentList.as_view(), name="api-departments"),
    path("texts/", texts.TextListCreate.as_view(), name="api-texts"),
    path("texts/inbox/", texts.TextInbox.as_view(), name="api-inbox"),
    path("texts/import/", texts.TextImport.as_view(), name="api-import"),
    path("texts/export.xlsx", documents.TextsWorkbook.as_view(), name="api-texts-xlsx"),
    path("texts/<int:pk>/", texts.TextDetail.as_view(), name="api-text"),
    path("texts/<int:pk>/actions/<str:action>/", texts.TextAction.as_view(), name="api-action"),
    path("texts/<int:pk>/history/", texts.TextHistory.as_view(), name="api-history"),
    path("texts/<int:pk>/revisions/", texts.RevisionList.as_view(), name="api-revisions"),
    path(
        "texts/<int:pk>/revisions/<int:number>/diff/",
        texts.RevisionDiff.as_view(),
        name="api-revision-diff",
    ),
    path("texts/<int:pk>/export.docx", texts.TextExportDocx.as_view(), name="api-export-docx"),
    path(
        "texts/<int:pk>/approval-form.docx",
        documents.ApprovalSheetDocx.as_view(),
        name="api-approval-form-docx",
    ),
    path(
        "texts/<int:pk>/approval-form.pdf",
        documents.ApprovalSheetPdf.as_view(),
        name="api-approval-form-pdf",
    ),
    path(
        "publications/<slug:department>/<int:fiscal_year>.docx",
        documents.PublicationDocx.as_view(),
        name="api-publication-docx",
    ),
    path(
        "publications/<slug:department>/<int:fiscal_year>.pdf",
        documents.PublicationPdf.as_view(),
        name="api-publication-pdf",
    ),
    path("notifications/", notifications.NotificationList.as_view(), name="api-notifications"),
    path(
        "notifications/unread-count/",
        notifications.UnreadCount.as_view(),
        name="api-notifications-unread",
    ),
    path(
        "notifications/read-all/",
        notifications.NotificationReadAll.as_view(),
        name="api-notifications-read-all",
    ),
    path(
        "notifications/preferences/",
        notifications.PreferenceView.as_view(),
        name="api-notification-preferences",
    ),
    path(
        "notifications/<int:pk>/read/",
        notifications.NotificationRead.as_view(),
        name="api-notification-read",
    ),
    path("audit/events/", workflow.AuditEventList.as_view(), name="api-audit-events"),
    path("audit/export.csv", workflow.AuditExportCsv.as_view(), name="api-audit-csv"),
    path("audit/verify/", workflow.AuditVerify.as_view(), name="api-audit-verify"),
    path("workflows/", workflow.WorkflowList.as_view(), name="api-workflows"),
    path(
        "workflows/<slug:code>/versions/<int:number>/",
        workflow.WorkflowVersionDocument.as_view(),
        name="api-workflow-version",
    ),
    path("delegations/", workflow.DelegationListCreate.as_view(), name="api-delegations"),
    path("delegations/<int:pk>/", workflow.DelegationDetail.as_view(), name="api-delegation"),
]

urlpatterns = [
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file of its own (?script), so
    # that the docs run under a Content-Security-Policy without inline script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("healthz", healthz, name="healthz"),
    # The admin's own "change password" is the audited page everyone uses (the password
    # service: rules, history, event); Django's would save the password unaudited.
    path("admin/password_change/", RedirectView.as_view(pattern_name="password-change")),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/two-factor/", two_factor.manage, name="two-factor"),
    path("accounts/two-factor/verify/", two_factor.verify, name="two-factor-verify"),
    path("audit/", include("workflow.urls")),
    path("notifications/", include("notifications.urls")),
    path("", include("submissions.urls")),
]
