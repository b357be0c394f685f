"""Rendering emails in the recipient's language and sending them through the task queue on commit."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string
from django.utils import translation


def render_email(template: str, context: dict[str, Any], *, language: str | None = None) -> tuple[str, str, str | None]:
    """Render ``<template>_subject.txt``, ``<template>_message.txt`` and, if present, ``.html``."""
    context = {"site_name": settings.SITE_NAME, "site_url": settings.SITE_URL, **context}
    with translation.override(language or translation.get_language() or settings.LANGUAGE_CODE):
        subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
        body = render_to_string(f"{template}_message.txt", context)
        try:
            html: str | None = render_to_string(f"{template}_message.html", context)
        except TemplateDoesNotExist:
            html = None
    return subject, body, html


def queue_email(
    *, subject: str, body: str, to: list[str], html: str | None = None, from_email: str | None = None
) -> None:
    """Enqueue delivery once the surrounding transaction commits (at once outside a transaction)."""
    from partnerhub.core.tasks import send_email

    def enqueue() -> None:
        send_email.enqueue(subject=subject, body=body, to=to, html=html, from_email=from_email)

    transaction.on_commit(enqueue)


def send_templated_mail(*, template: str, to: list[str], context: dict[str, Any], language: str | None = None) -> None:
    """Render `template` in `language` and send it to `to` after commit."""
    subject, body, html = render_email(template, context, language=language)
    queue_email(subject=f"[{settings.SITE_NAME}] {subject}", body=body, to=to, html=html)
