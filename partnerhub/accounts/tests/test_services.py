import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied

from partnerhub.access.policy import Actor
from partnerhub.accounts.services import update_profile
from partnerhub.audit.models import AuditEntry
from partnerhub.core.errors import ServiceError


def test_update_profile_changes_only_the_actors_own_account(outsider, acme_member):
    update_profile(Actor(user=outsider), name="New Name", language="bg")

    outsider.refresh_from_db()
    acme_member.refresh_from_db()
    assert (outsider.name, outsider.language) == ("New Name", "bg")
    assert acme_member.name == "Mia Member"
    assert AuditEntry.objects.get().actor == outsider


def test_update_profile_refuses_anonymous_and_inactive_actors(outsider, db):
    with pytest.raises(PermissionDenied):
        update_profile(Actor(user=AnonymousUser()), name="x", language="en")  # type: ignore[arg-type]
    outsider.is_active = False
    outsider.save(update_fields=["is_active"])
    with pytest.raises(PermissionDenied):
        update_profile(Actor(user=outsider), name="x", language="en")

    assert not AuditEntry.objects.exists()


def test_update_profile_refuses_unknown_languages(outsider):
    with pytest.raises(ServiceError):
        update_profile(Actor(user=outsider), name="x", language="fr")

    outsider.refresh_from_db()
    assert outsider.language == "en"
    assert not AuditEntry.objects.exists()
