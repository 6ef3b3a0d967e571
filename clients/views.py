from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import Http404, HttpResponse
from django.urls import reverse_lazy

from clients.forms import AcceptInviteForm, ClientPasswordResetForm, LoginForm
from clients.models import ClientLogo, User


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def get_default_redirect_url(self):
        return "/admin/" if self.request.tenant.is_public else "/"


class LogoutView(auth_views.LogoutView):
    pass


class PasswordResetView(auth_views.PasswordResetView):
    form_class = ClientPasswordResetForm
    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/password_reset_email.txt"
    subject_template_name = "accounts/password_reset_subject.txt"
    success_url = reverse_lazy("password_reset_done")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "tenant": self.request.tenant}


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("login")

    def form_valid(self, form):
        response = super().form_valid(form)
        if form.user.status == User.Status.INVITED:
            form.user.status = User.Status.ACTIVE
            form.user.save(update_fields=["status", "updated_at"])
        messages.success(self.request, "Your password is set. You can sign in now.")
        return response


class AcceptInviteView(auth_views.PasswordResetConfirmView):
    form_class = AcceptInviteForm
    template_name = "accounts/accept_invite.html"
    success_url = reverse_lazy("login")
    reset_url_token = "set-password"

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, "Welcome! Your password is set. Sign in with your email to continue.")
        return response


def brand_logo(request, version: int, extension: str):
    """The client's logo for anyone (the login page shows it): its URL changes with each new logo, so it is
    cached for a year; an old URL gets the current logo, cached briefly."""
    logo = ClientLogo.objects.filter(client=request.tenant).only("image", "content_type", "version").first()
    if logo is None or request.tenant.is_public:
        raise Http404("No logo.")
    response = HttpResponse(bytes(logo.image), content_type=logo.content_type)
    current = logo.version == version
    response["Cache-Control"] = "public, max-age=31536000, immutable" if current else "public, max-age=300"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'"
    return response
