"""API keys: scoped to one organisation and a subset of the creator's permissions (DESIGN §11)."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from partnerhub.access.perms import Perm, parse_perms

KEY_PREFIX = "phk_"


class ApiKey(models.Model):
    """A bearer key. Only its hash is stored; the secret is shown once, at creation."""

    org = models.ForeignKey("orgs.Organisation", on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=16)
    key_hash = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(_("permissions"), default=list)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        # The key list and its API page walk one organisation's keys newest first.
        indexes = [models.Index(fields=["org", "-id"], name="api_key_org_recent")]
        verbose_name = _("API key")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash(secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()

    @staticmethod
    def generate() -> str:
        return KEY_PREFIX + secrets.token_urlsafe(32)

    @property
    def perms(self) -> frozenset[Perm]:
        return parse_perms(self.scopes)

    @property
    def perm_list(self) -> list[Perm]:
        """The key's permissions in vocabulary order (for display)."""
        perms = self.perms
        return [p for p in Perm if p in perms]

    @property
    def is_usable(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    @property
    def status(self) -> str:
        if self.revoked_at:
            return "revoked"
        if self.expires_at and self.expires_at <= timezone.now():
            return "expired"
        return "active"
