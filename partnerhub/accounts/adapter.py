"""allauth adapter: emails leave through the task queue once the transaction commits, in the
recipient's language; the user's language follows them from signup to every login."""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.forms import BaseForm
from django.http import HttpRequest, HttpResponse
from django.utils import translation

from partnerhub.core.mail import queue_email

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser

LANGUAGE_CODES = frozenset(code for code, _name in settings.LANGUAGES)


def supported_language(code: str | None) -> str | None:
    """`code` reduced to one of our LANGUAGES (``de-ch`` → ``de``), or None."""
    if not code:
        return None
    code = code.lower()
    if code in LANGUAGE_CODES:
        return code
    base = code.split("-")[0]
    return base if base in LANGUAGE_CODES else None


def recipient_language(email: str, user: Any = None) -> str | None:
    """The language the owner of `email` chose, when the address belongs to an account."""
    from allauth.account.models import EmailAddress

    from partnerhub.accounts.models import User

    if not isinstance(user, User):
        address = EmailAddress.objects.filter(email__iexact=email).select_related("user").first()
        user = address.user if address else User.objects.filter(email__iexact=email).first()
    return supported_language(user.language) if isinstance(user, User) else None


def site_for(request: HttpRequest | None) -> SimpleNamespace:
    """What allauth's email templates call ``current_site``: our name, the host the user sees."""
    domain = request.get_host() if request is not None else urlsplit(settings.SITE_URL).netloc
    return SimpleNamespace(name=settings.SITE_NAME, domain=domain)


def set_language_cookie(response: HttpResponse, language: str) -> None:
    """Make LocaleMiddleware pick `language` on the following requests."""
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


class AccountAdapter(DefaultAccountAdapter):  # type: ignore[misc]  # allauth ships no type information
    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        """Render allauth's message in the recipient's language and deliver it after commit."""
        request: HttpRequest | None = allauth_context.request
        language = (
            recipient_language(email, context.get("user")) or translation.get_language() or settings.LANGUAGE_CODE
        )
        ctx = {"request": request, "email": email, "current_site": site_for(request), **context}
        with translation.override(language):
            message = self.render_mail(template_prefix, email, ctx)
        html = None
        if isinstance(message, EmailMultiAlternatives):
            html = next((str(content) for content, mimetype in message.alternatives if mimetype == "text/html"), None)
        queue_email(
            subject=str(message.subject),
            body=str(message.body),
            to=list(message.to),
            html=html,
            from_email=message.from_email,
        )

    def save_user(self, request: HttpRequest, user: AbstractBaseUser, form: BaseForm, commit: bool = True) -> Any:
        """New accounts keep the language they signed up in.

        Choosing the password at signup is recorded like typing it at login, so that someone who
        confirms their address and enrols in MFA right away is not asked for it again at once.
        """
        from allauth.account.internal.flows.login import record_authentication

        language = supported_language(translation.get_language())
        if language:
            user.language = language  # type: ignore[attr-defined]
        saved = super().save_user(request, user, form, commit=commit)
        if commit and user.pk is not None and user.has_usable_password():
            record_authentication(request, user, method="password", signup=True)
        return saved

    def is_reauthentication_required(self, *, app: str, **kwargs: Any) -> bool:
        """Someone who just typed their password to log in is not asked for it again at once."""
        from partnerhub.accounts.reauth import recently_reauthenticated

        if self.request is not None and recently_reauthenticated(self.request):
            return False
        return bool(super().is_reauthentication_required(app=app, **kwargs))

    def post_login(self, request: HttpRequest, user: AbstractBaseUser, **kwargs: Any) -> HttpResponse:
        """Switch the interface to the user's own language as they log in."""
        language = supported_language(getattr(user, "language", None))
        if language is None:
            return super().post_login(request, user, **kwargs)  # type: ignore[no-any-return]
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response: HttpResponse = super().post_login(request, user, **kwargs)
        set_language_cookie(response, language)
        return response
