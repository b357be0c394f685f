"""The ``partnerhub`` command: demo, serve, worker, createoperator, and every manage.py command."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

USAGE = """usage: partnerhub COMMAND [ARGS]

  demo [--port N] [--reset]   migrate, seed the demo program, run server + task worker (local mode, SQLite)
  serve [--port N]            run the web server (gunicorn; production settings unless PARTNERHUB_MODE is set)
  worker                      run the background task worker
  createoperator              create the operator organisation and its first staff account
  seed_demo                   seed the demo program into the configured database
  <any manage.py command>     e.g. migrate, check, shell, compilemessages
"""


def _manage(*args: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["partnerhub", *args])


def _option(args: list[str], name: str, default: str) -> str:
    if name in args:
        index = args.index(name)
        if index + 1 < len(args):
            return args[index + 1]
    return default


def demo(args: list[str]) -> int:
    """Everything a newcomer needs in one process group: database, demo data, server, worker."""
    os.environ.setdefault("PARTNERHUB_MODE", "local")
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
    port = _option(args, "--port", os.environ.get("PORT", "8000"))
    os.environ.setdefault("SITE_URL", f"http://127.0.0.1:{port}")
    (BASE_DIR / "var" / "static").mkdir(parents=True, exist_ok=True)
    if "--reset" in args:
        if os.environ.get("DATABASE_URL"):
            print("--reset only removes the demo's own SQLite database; DATABASE_URL is set, nothing removed.")
        else:
            # The audit log refuses deletes by design, so a fresh demo means a fresh database file.
            for suffix in ("", "-wal", "-shm"):
                (BASE_DIR / "var" / f"partnerhub.sqlite3{suffix}").unlink(missing_ok=True)
    python = sys.executable
    manage = str(BASE_DIR / "manage.py")
    env = os.environ.copy()
    subprocess.run([python, manage, "migrate", "--no-input", "-v", "0"], check=True, env=env)  # noqa: S603
    subprocess.run([python, manage, "seed_demo"], check=True, env=env)  # noqa: S603
    # The daily billing run once, so the demo data is current (renewals, overdue invoices, ended trials).
    subprocess.run([python, manage, "billing_daily"], check=True, env=env)  # noqa: S603
    worker = subprocess.Popen([python, manage, "db_worker", "--no-reload"], env=env)  # noqa: S603
    server = subprocess.Popen(  # noqa: S603
        [
            python,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--access-logfile",
            "-",
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=BASE_DIR,
    )
    print(f"\n  Partnerhub demo running at http://127.0.0.1:{port}/  (Ctrl+C stops it)\n", flush=True)
    try:
        return server.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        for process in (server, worker):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()


def serve(args: list[str]) -> int:
    port = _option(args, "--port", os.environ.get("PORT", "8000"))
    workers = os.environ.get("WEB_CONCURRENCY", "2")
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi:application",
        "--bind",
        f"0.0.0.0:{port}",
        "--workers",
        workers,
        "--access-logfile",
        "-",
    ]
    return subprocess.call(command, cwd=BASE_DIR)  # noqa: S603


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help", "help"}:
        print(USAGE)
        return 0
    command, rest = args[0], args[1:]
    sys.path.insert(0, str(BASE_DIR))
    if command == "demo":
        return demo(rest)
    if command == "serve":
        return serve(rest)
    if command == "worker":
        _manage("db_worker", "--no-reload", *rest)
        return 0
    _manage(command, *rest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
