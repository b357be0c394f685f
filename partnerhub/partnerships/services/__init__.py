"""Every write of the partnerships area (DESIGN §4–§5): the four flows, their answers, ending, grants.

Each service checks access itself through ``partnerhub.access`` (callers are not trusted), runs in
one transaction, records audit entries in it (the partnership is the object, so its entries are the
history of the partnership and of its grant) and sends emails once it commits.
"""

from __future__ import annotations

from partnerhub.access.policy import DELEGABLE_PERMS
from partnerhub.partnerships.services.common import CONFLICT, GrantInput, check_grant_input
from partnerhub.partnerships.services.flows import (
    AMBIGUOUS,
    answer_invitation,
    answer_request,
    choose_partner,
    create_customer,
    invite_partner,
    request_management,
)
from partnerhub.partnerships.services.grants import change_grant, extend_grant, grant_maintenance, revoke_grant
from partnerhub.partnerships.services.lifecycle import (
    acting_side,
    cancel,
    end_partnership,
    expire_pending,
    initiating_side,
    resend,
)
from partnerhub.partnerships.services.orders import order_partnership_for, ordering_for, partnerships_in_force

__all__ = [
    "AMBIGUOUS",
    "CONFLICT",
    "DELEGABLE_PERMS",
    "GrantInput",
    "acting_side",
    "answer_invitation",
    "answer_request",
    "cancel",
    "change_grant",
    "check_grant_input",
    "choose_partner",
    "create_customer",
    "end_partnership",
    "expire_pending",
    "extend_grant",
    "grant_maintenance",
    "initiating_side",
    "invite_partner",
    "order_partnership_for",
    "ordering_for",
    "partnerships_in_force",
    "request_management",
    "resend",
    "revoke_grant",
]
