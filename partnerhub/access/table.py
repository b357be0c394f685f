"""The permission table of docs/permissions.md, generated from the vocabulary (a test keeps it current)."""

from __future__ import annotations

from partnerhub.access.perms import (
    ROLE_OPERATOR_PERMS,
    ROLE_PARTNER_PERMS,
    ROLE_PERMS,
    Perm,
    Role,
)

HEADER = """# Permissions

Generated from `partnerhub/access/perms.py` by `partnerhub permissions_table > docs/permissions.md`;
a test fails when this file and the code disagree.

A membership has a role plus optional extra permissions. Partner permissions count only on an
organisation that is a partner, operator permissions only on the operator organisation. An
organisation that is an affiliate but not a partner holds `partner.portal.manage` only (its referral
link, commissions and payouts), by role or as an extra permission. Nobody can
hand out a role or permission they do not hold themselves (anti-escalation). Every HTML route and
API operation declares one of these permissions, `login` (own account only) or `public`; see
`docs/architecture.md`.

| permission | side | meaning | owner | admin | member |
|---|---|---|---|---|---|
"""


def _holds(role: Role, perm: Perm) -> bool:
    return perm in ROLE_PERMS[role] | ROLE_PARTNER_PERMS[role] | ROLE_OPERATOR_PERMS[role]


def permissions_markdown() -> str:
    rows = []
    for perm in Perm:
        marks = " | ".join("✓" if _holds(role, perm) else "" for role in (Role.OWNER, Role.ADMIN, Role.MEMBER))
        rows.append(f"| `{perm.value}` | {perm.side} | {perm.label} | {marks} |")
    return HEADER + "\n".join(rows) + "\n"
