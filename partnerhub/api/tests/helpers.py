"""Request helpers for the API tests."""

from __future__ import annotations

from typing import Any

from django.test import Client

from conftest import PASSWORD


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def send(client: Client, method: str, url: str, body: Any = None, **headers: str) -> Any:
    """One JSON request; `headers` are passed as HTTP headers."""
    kwargs: dict[str, Any] = {"headers": headers} if headers else {}
    if body is not None:
        kwargs["data"] = body
        kwargs["content_type"] = "application/json"
    return getattr(client, method.lower())(url, **kwargs)


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    """The response is a problem document with `status`; returns its body."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"] == "about:blank"
    assert body["title"]
    return body


def reauthenticated(client: Client) -> Client:
    """Confirm the password through allauth's re-authentication form, as the user would."""
    response = client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    assert response.status_code == 302, response.content
    return client
