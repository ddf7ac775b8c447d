"""Django's admin on a site that wants the second factor too (DESIGN.md's administrators are
the people two-factor sign-in is for): its login is the same two steps as the login page, and
a session that has not given its code (where it owes one) is treated as not staff, as
django-otp's OTPAdminSite does. Who owes one: workflow.twofactor.

Models and the auth views are imported inside the methods: this module is loaded with the
app registry (INSTALLED_APPS names its AdminConfig), before models can be.
"""

from typing import Any

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _


class TwoFactorAdminSite(admin.AdminSite):
    def has_permission(self, request: HttpRequest) -> bool:
        from workflow.twofactor import second_factor_satisfied

        return super().has_permission(request) and second_factor_satisfied(request.user)

    def login(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """Django's AdminSite.login, with the two-step login view."""
        from django.contrib.admin.forms import AdminAuthenticationForm
        from django.contrib.auth.views import LoginView

        from config.two_factor import TwoStepLoginMixin

        class AdminLoginView(TwoStepLoginMixin, LoginView):
            pass

        if request.method == "GET" and self.has_permission(request):
            return HttpResponseRedirect(reverse("admin:index", current_app=self.name))
        context = {
            **self.each_context(request),
            "title": _("登录"),
            "subtitle": None,
            "app_path": request.get_full_path(),
            "username": request.user.get_username(),
        }
        if REDIRECT_FIELD_NAME not in request.GET and REDIRECT_FIELD_NAME not in request.POST:
            context[REDIRECT_FIELD_NAME] = reverse("admin:index", current_app=self.name)
        context.update(extra_context or {})
        request.current_app = self.name
        return AdminLoginView.as_view(
            extra_context=context,
            authentication_form=self.login_form or AdminAuthenticationForm,
            template_name=self.login_template or "admin/login.html",
        )(request)


class AdminConfig(DjangoAdminConfig):
    default_site = "config.admin_site.TwoFactorAdminSite"

    def ready(self) -> None:
        super().ready()
        # django-otp's own device admins would let staff add or change anyone's
        # authenticator unaudited; devices change only through workflow.services.twofactor.
        from django_otp.plugins.otp_static.models import StaticDevice
        from django_otp.plugins.otp_totp.models import TOTPDevice

        for model in (TOTPDevice, StaticDevice):
            if admin.site.is_registered(model):
                admin.site.unregister(model)
