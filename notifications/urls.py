"""The notification pages: the list under the bell, and the bell's count for htmx."""

from django.urls import path

from notifications import views

urlpatterns = [
    path("", views.notification_list, name="notifications"),
    path("bell/", views.bell, name="notification-bell"),
    path("<int:pk>/read/", views.mark_read, name="notification-read"),
    path("preferences/", views.preferences, name="notification-preferences"),
    path("language/", views.set_language, name="set-language"),
    path("texts/<int:pk>/urge/", views.urge, name="text-urge"),
]
