"""Browser tests: a real server process, real Chromium (Debian's) driven by Playwright.

The server runs in local mode against its own SQLite file, sends emails to files (the tests read
them like an inbox) and runs tasks immediately. Nothing here touches the test database.
"""

from __future__ import annotations

import email
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from email.message import Message
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
# `make screenshots` refreshes docs/screenshots/; ordinary runs keep theirs in var/ (not tracked).
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR") or ROOT / "var" / "screenshots")
# Every demo login's password (seed_demo).
DEMO_PASSWORD = "partnerhub-demo"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _require_browser() -> None:
    if not Path(CHROMIUM).exists():
        message = "Debian's chromium is not installed (scripts/system-deps installs it)"
        if os.environ.get("PARTNERHUB_REQUIRE_BROWSER") == "true" or os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    def __init__(self, workdir: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.mail_dir = workdir / "mail"
        self.mail_dir.mkdir()
        self.env = {
            **os.environ,
            "PARTNERHUB_MODE": "local",
            "DEBUG": "false",
            "DATABASE_URL": f"sqlite:///{workdir / 'browser.sqlite3'}",
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(self.mail_dir),
            "TASKS_BACKEND": "django.tasks.backends.immediate.ImmediateBackend",
            "SITE_URL": self.url,
            "REQUIRE_MFA_FOR_OPERATORS": "false",
        }
        self.env.pop("PYTHONDONTWRITEBYTECODE", None)
        self.process: subprocess.Popen[bytes] | None = None

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), *args], env=self.env, cwd=ROOT, check=True, capture_output=True
        )
        return result.stdout.decode()

    def start(self) -> None:
        self.manage("migrate", "--no-input", "-v", "0")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "1",
                "--threads",
                "4",
                "--log-level",
                "warning",
            ],
            env=self.env,
            cwd=ROOT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("the test server did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def emails_to(self, address: str) -> list[Message]:
        """Every email the server sent to `address`, oldest first."""
        found = []
        for path in sorted(self.mail_dir.glob("*.log"), key=lambda p: p.stat().st_mtime):
            for chunk in path.read_text().split("-" * 79):
                if not chunk.strip():
                    continue
                message = email.message_from_string(chunk.strip())
                if address.lower() in (message.get("To") or "").lower():
                    found.append(message)
        return found


def body_of(message: Message) -> str:
    if message.is_multipart():
        for part in message.walk():
            if part.get_content_type() == "text/plain":
                payload = part.get_payload(decode=True)
                return payload.decode() if isinstance(payload, bytes) else str(payload)
    payload = message.get_payload(decode=True)
    return payload.decode() if isinstance(payload, bytes) else str(message.get_payload())


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    _require_browser()
    srv = Server(tmp_path_factory.mktemp("server"))
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def shoot(page: object, name: str) -> None:
    """Save a screenshot of a key page (docs/screenshots/ when run by `make screenshots`)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def demo(server: Server) -> Server:
    """The server with the demo program seeded (seeding again changes nothing)."""
    server.manage("seed_demo")
    return server


def sign_in(page: Any, server: Server, email: str, password: str = DEMO_PASSWORD) -> None:
    """Log `page` in as `email` through the login form; it lands in an organisation."""
    page.goto(f"{server.url}/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", password)
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r".*/o/.*"))


def log_in(browser: Any, server: Server, email: str, password: str = DEMO_PASSWORD, **options: Any) -> tuple[Any, Any]:
    """A fresh desktop browser (English locale, `options` for Playwright's context) logged in as `email`;
    the portal then follows the profile language."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB", **options)
    page = context.new_page()
    sign_in(page, server, email, password)
    return context, page
