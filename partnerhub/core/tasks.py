"""Background tasks of the core area."""

from __future__ import annotations

from django.core.mail import EmailMultiAlternatives
from django.tasks import task


@task()
def send_email(
    *, subject: str, body: str, to: list[str], html: str | None = None, from_email: str | None = None
) -> int:
    """Deliver one rendered email; the worker retries by re-enqueueing on failure."""
    message = EmailMultiAlternatives(subject=subject, body=body, to=to, from_email=from_email)
    if html:
        message.attach_alternative(html, "text/html")
    return message.send()
