"""Every write of the delegated-access area (DESIGN §5): management sessions, support access, VIP codes.

Each service checks access itself through partnerhub.access (callers are not trusted), runs in one
transaction, records its audit entries in it and sends emails once it commits.
"""

from __future__ import annotations

from partnerhub.core.errors import ServiceError
from partnerhub.delegation.services.sessions import (
    close_idle_sessions,
    end_session,
    set_session_notifications,
    start_session,
    terminate_session,
    touch_session,
)
from partnerhub.delegation.services.support import (
    assign_vip_code,
    grant_support_access,
    remove_vip_code,
    revoke_support_access,
)

__all__ = [
    "ServiceError",
    "assign_vip_code",
    "close_idle_sessions",
    "end_session",
    "grant_support_access",
    "remove_vip_code",
    "revoke_support_access",
    "set_session_notifications",
    "start_session",
    "terminate_session",
    "touch_session",
]
