"""Access for background tasks: a task acting for a person re-asks the rule when it runs.

Tasks receive ids (their arguments are JSON), so by the time a worker picks one up the person may
have lost the permission. ``authorize`` loads the user and organisation and asks the same rule as
views and the API; a refusal raises ``PermissionDenied`` and the task does nothing.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from partnerhub.access.perms import Perm
from partnerhub.access.policy import Actor, perms_for
from partnerhub.accounts.models import User
from partnerhub.orgs.models import Organisation


def authorize(*, user_id: int, perm: Perm, org_id: int) -> tuple[Actor, Organisation]:
    """The actor and organisation for a task, if `user_id` still holds `perm` on `org_id` now."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    org = Organisation.objects.filter(pk=org_id).first()
    if user is None or org is None or perm not in perms_for(user, org):
        raise PermissionDenied(f"user {user_id} may not {perm} on organisation {org_id}")
    return Actor(user=user), org
