# THROWAWAY sweep (review 3), deleted after use.
import re
import pytest
from django.urls import reverse
from partnerhub.access.policy import Actor
from partnerhub.orgs.models import Membership
from partnerhub.orgs.services import invite_member
from partnerhub.api.tests.helpers import reauthenticated

VALUES = ["", "\x00", "a\x00b", "x" * 100_000, "-1", "0", "99999999999999999999999", "1e400", "abc",
          "9999-12-31", "0001-01-01", "10000-01-01", "31.12.9999", "2030-01-01T00:00:00", "owner"]
QVALUES = ["%00", "a%00b", "x" * 5000, "-1", "0", "99999999999999999999999", "abc", "9999-12-31", "0001-01-01",
           "%ED%A0%80", "9223372036854775808", "-9223372036854775809"]

def test_html_sweep(client_for, acme, acme_owner, acme_member, globex, settings):
    inv, token = invite_member(Actor(user=acme_owner), org=acme, email="x@example.test", role="member", extra_perms=[])
    mid = Membership.objects.get(user=acme_member).pk
    client = reauthenticated(client_for(acme_owner))
    urls = [reverse("org_create"), reverse("org_switch"), reverse("invitation_accept", args=[token]),
            reverse("invitation_accept", args=["x" * 3000]),
            reverse("org_overview", args=["acme"]), reverse("org_settings", args=["acme"]),
            reverse("member_list", args=["acme"]), reverse("member_invite", args=["acme"]),
            reverse("member_change", args=["acme", mid]), reverse("profile"),
            reverse("api_key_list", args=["acme"]), reverse("api_key_create", args=["acme"]),
            reverse("audit_list", args=["acme"]), reverse("audit_export", args=["acme"]),
            reverse("invitation_resend", args=["acme", inv.pk]),
            "/o/acme/members/99999999999999999999999/", "/o/acme/api-keys/99999999999999999999999/revoke/",
            "/invitations/%00/", "/invitations/a%00b/"]
    bad = []
    def check(method, url, r=None, exc=None, data=None):
        if exc is not None:
            bad.append((method, url[:150], str(data)[:80], "EXC", repr(exc)[:300])); return
        body = b"".join(r.streaming_content) if getattr(r, "streaming", False) else r.content
        if r.status_code >= 500:
            bad.append((method, url[:150], str(data)[:80], r.status_code, body[:200]))
    for url in urls:
        try:
            page = client.get(url)
            names = set(re.findall(r'name="([a-z_0-9]+)"', page.content.decode(errors="replace")))
        except Exception as exc:
            check("GET", url, exc=exc); names = set()
        names -= {"csrfmiddlewaretoken"}
        names |= {"before", "after", "date_from", "date_to", "action", "actor", "expires_on", "name", "perms", "role",
                  "extra_perms", "email", "slug", "org", "language", "country", "website", "billing_email"}
        for n in sorted(names):
            for v in QVALUES:
                u = f"{url}?{n}={v}"
                try:
                    check("GET", u, client.get(u))
                except Exception as exc:
                    check("GET", u, exc=exc)
            for v in VALUES:
                good = {"name": "N", "email": "a@b.test", "role": "member", "perms": ["org.view"], "language": "en"}
                data = {**good, n: v}
                try:
                    check("POST", url, client.post(url, data), data=data)
                except Exception as exc:
                    check("POST", url, exc=exc, data=data)
    for b in bad:
        print("BAD", b)
    assert not bad, len(bad)
