"""The auditors' pages."""

from django.urls import path

from workflow import views

urlpatterns = [
    path("", views.audit_search, name="audit"),
    path("export.csv", views.audit_export, name="audit-export"),
    path("verify/", views.audit_verify, name="audit-verify"),
    path("texts/<int:pk>/", views.audit_text_history, name="audit-text"),
]
