"""The auditors' pages."""

from django.urls import path

from workflow import views

urlpatterns = [
    path("", views.audit_search, name="audit"),
    path("texts/<int:pk>/", views.audit_text_history, name="audit-text"),
]
