# THROWAWAY sweep (review 3), deleted after use.
import itertools, json, base64, re
from datetime import timedelta
import pytest
from django.utils import timezone
from partnerhub.access.perms import Perm
from partnerhub.api.urls import api
from partnerhub.api.tests.helpers import reauthenticated, bearer
from partnerhub.api.models import ApiKey
from partnerhub.orgs.models import Invitation
from partnerhub.access.policy import Actor
from partnerhub.orgs.services import invite_member

LONG = "x" * 100_000
NUL = "a\x00b"
def cur(v): return base64.urlsafe_b64encode(json.dumps(v).encode()).decode().rstrip("=")
BODIES = ['"AAA"', "123", "null", "[]", "true", "{}", '{"a":' * 5000 + "1" + "}" * 5000, "\x00", "[" * 100000]
WEIRD_VALUES = [None, 1, -1, 10**30, 1.5, True, "", NUL, LONG, [], {}, ["\x00"], [LONG], "9999-12-31T23:59:59-12:00",
                "0001-01-01T00:00:00+05:00", "2030-01-01T00:00:00", "owner", "\ud800"]
QUERY_VALUES = ["", "%00", "a%00b", "x" * 5000, "-1", "0", "99999999999999999999999", "1e400", "abc",
                "9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00%2B05:00", "2030-01-01T00:00:00", "%ED%A0%80",
                cur(["0001-01-01T00:00:00+05:00", 1]), cur(["a\x00b", 1]), cur([1, 10**30]), cur([None, None]),
                cur(["2020-01-01T00:00:00", 1]), cur([[1], {"a": 1}]), cur("x"), cur([1e400, 1]), cur([1, -1]),
                cur(["9999-12-31T23:59:59-12:00", 1]), cur([1, "a\x00"])]

def ops():
    schema = api.get_openapi_schema()
    for path, item in schema["paths"].items():
        for method, op in item.items():
            params = [p for p in op.get("parameters", [])]
            body = op.get("requestBody")
            props = {}
            if body:
                ref = list(body["content"].values())[0]["schema"]
                s = ref
                if "$ref" in s:
                    s = schema["components"]["schemas"][s["$ref"].split("/")[-1]]
                props = s.get("properties", {})
            yield method.upper(), path, params, props

def fill(path, **ids):
    def rep(m):
        name = m.group(1)
        return str(ids.get(name, "acme" if name == "org_slug" else ids.get("_default", 1)))
    return re.sub(r"\{(\w+)\}", rep, path)

@pytest.mark.parametrize("who", ["session", "key"])
def test_sweep(client_for, acme, acme_owner, acme_member, globex, make_key, who, settings):
    settings.API_RATE_LIMIT = "1000000/m"
    bad = []
    key, secret = make_key(acme_owner, acme, [p for p in Perm if p.value.startswith(("org", "members", "audit", "api_keys", "billing", "catalog"))] or [Perm.ORG_VIEW])
    inv, _ = invite_member(Actor(user=acme_owner), org=acme, email="x@example.test", role="member", extra_perms=[])
    client = reauthenticated(client_for(acme_owner))
    headers = bearer(secret) if who == "key" else {}
    def go(method, url, data=None, content_type="application/json", qs=None):
        kwargs = {"headers": headers}
        if data is not None:
            kwargs["data"] = data; kwargs["content_type"] = content_type
        if qs:
            url = url + "?" + qs
        try:
            r = getattr(client, method.lower())(url, **kwargs)
        except Exception as exc:
            bad.append((method, url[:200], str(data)[:100], "EXC " + repr(exc)[:300])); return
        assert r.status_code != 429
        if r.status_code >= 500 or (r.status_code >= 400 and r["Content-Type"] != "application/problem+json"):
            bad.append((method, url[:200], str(data)[:100], r.status_code, r.content[:300]))
    ids = {"membership_id": __import__("partnerhub.orgs.models", fromlist=["x"]).Membership.objects.get(user=acme_member).pk,
           "invitation_id": inv.pk, "key_id": key.pk}
    for method, path, params, props in sorted(ops(), key=lambda o: o[0] == "DELETE"):
        base = fill(path, **ids)
        # path params
        for name in re.findall(r"\{(\w+)\}", path):
            for v in ["%00", "a%00b", "x" * 3000, "99999999999999999999999", "-1", "0", "abc", "%ED%A0%80"]:
                go(method, fill(path, **{**ids, name: v}), "{}" if method in ("POST", "PATCH", "PUT") else None)
        # query params
        for p in params:
            if p["in"] != "query": continue
            for v in QUERY_VALUES:
                go(method, base, "{}" if method in ("POST", "PATCH", "PUT") else None, qs=f"{p['name']}={v}")
        if method in ("POST", "PATCH", "PUT"):
            for b in BODIES:
                go(method, base, b)
            for name in props:
                for v in WEIRD_VALUES:
                    go(method, base, json.dumps({name: v}))
                    # with other fields plausible
                    good = {"name": "n", "permissions": ["org.view"], "email": "a@b.test", "slug": "zz"}
                    d = {k: good.get(k, "x") for k in props}
                    d[name] = v
                    go(method, base, json.dumps(d))
        if method == "DELETE":
            go(method, base)
    for b in bad:
        print("BAD", b)
    assert not bad, len(bad)
