"""The pull of one recording against `curl -o FILE && sha256sum FILE && sync`, same file, same server.

A file of BENCH_PULL_MB (default 200) random megabytes is served by Python's threaded
http.server on loopback (a subprocess). Both sides are timed from the request to the file being
hashed and on disk; the app's side is the real job function (app.jobs.recordings.pull_recording)
in a process of its own, on a throw-away SQLite database, and reports its own peak RSS.

`python -m bench.pull` prints the JSON; bench/run.py calls `measure()` and merges it in.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_RATIO = 0.8
RSS_LIMIT_MB = 200
FOLDER, NAME = "bench-session", "ir-bench_2026-12-03-10-00-00.mp4"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _make_file(path: Path, megabytes: int) -> tuple[int, str]:
    import hashlib

    path.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with open(path, "wb") as f:
        for _ in range(megabytes):
            block = os.urandom(1 << 20)
            f.write(block)
            digest.update(block)
    # The generated file's own write-back must not land in curl's `sync`.
    os.sync()
    return megabytes << 20, digest.hexdigest()


def _serve(root: Path, port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "-d", str(root)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return server
        except OSError:
            time.sleep(0.05)
    server.terminate()
    raise RuntimeError("http.server did not start")


def _time_curl(url: str, target: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        [
            "bash",
            "-c",
            'curl -sf -o "$1" "$2" && sha256sum "$1" >/dev/null && sync',
            "-",
            target,
            url,
        ],
        check=True,
    )
    elapsed = time.perf_counter() - started
    target.unlink()
    return elapsed


def _time_pull(base_url: str, work: Path, size: int, sha256: str) -> dict:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{work / 'pull.db'}",
        "SECRET_KEY": "bench-pull-secret-not-for-production",
        "RECORDINGS_DIR": str(work / "recordings"),
        "JIBRI_RECORDINGS_URL": base_url,
        "INSTANCE_DIR": str(work),
        # A throw-away SQLite database and no Redis: the start rules of production do not apply.
        "INTERVIEW_ROOM_ENV": "development",
    }
    job = json.dumps({"size": size, "sha256": sha256})
    out = subprocess.run(
        [sys.executable, "-m", "bench.pull", "--child"],
        cwd=ROOT,
        env=env,
        input=job,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"bench pull child failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _peak_rss_mb() -> float:
    """This process's peak RSS. /proc's VmHWM belongs to this program alone; getrusage's
    ru_maxrss survives exec on Linux, so it would count the forking parent (bench/run.py)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child() -> None:
    """In its own process: one real pull, timed, with this process's peak RSS."""
    from app import create_app, db
    from app.jobs.recordings import pull_recording
    from app.models import Recording, RecordingStatus

    job = json.loads(sys.stdin.read())
    app = create_app()
    with app.app_context():
        db.create_all()
        rec = Recording(
            room="ir-bench",
            session_folder=FOLDER,
            file_name=NAME,
            expected_size=job["size"],
            expected_sha256=job["sha256"],
            status=RecordingStatus.WAITING,
            bytes_pulled=0,
            attempts=0,
        )
        db.session.add(rec)
        db.session.commit()
        rid = rec.id
        rss_before = _peak_rss_mb()
        started = time.perf_counter()
        outcome = pull_recording(rid)
        elapsed = time.perf_counter() - started
        rss = _peak_rss_mb()
    print(
        json.dumps(
            {
                "outcome": outcome,
                "seconds": elapsed,
                "max_rss_mb": round(rss, 1),
                "rss_before_pull_mb": round(rss_before, 1),
            }
        )
    )


def measure(megabytes: int | None = None) -> dict:
    megabytes = megabytes or int(os.environ.get("BENCH_PULL_MB") or 200)
    work = Path(tempfile.mkdtemp(prefix="ir-bench-pull-"))
    try:
        size, sha256 = _make_file(work / "jibri" / FOLDER / NAME, megabytes)
        port = _free_port()
        server = _serve(work / "jibri", port)
        base = f"http://127.0.0.1:{port}"
        try:
            curl_s = _time_curl(f"{base}/{FOLDER}/{NAME}", work / "curl.out")
            pull = _time_pull(base, work, size, sha256)
        finally:
            server.terminate()
            server.wait()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if pull["outcome"] != "stored":
        raise RuntimeError(f"bench pull did not store the file: {pull['outcome']}")
    pull_mb_s = megabytes / pull["seconds"]
    curl_mb_s = megabytes / curl_s
    ratio = pull_mb_s / curl_mb_s
    return {
        "pull_mb_per_s": round(pull_mb_s, 1),
        "curl_mb_per_s": round(curl_mb_s, 1),
        "pull_ratio": round(ratio, 2),
        "pull_worker_max_rss_mb": pull["max_rss_mb"],
        "pull_target_met": ratio >= TARGET_RATIO and pull["max_rss_mb"] < RSS_LIMIT_MB,
        "pull_setup": {
            "file_mb": megabytes,
            "pull_seconds": round(pull["seconds"], 3),
            "curl_seconds": round(curl_s, 3),
            "worker_rss_before_pull_mb": pull["rss_before_pull_mb"],
            "load_average_1m": round(os.getloadavg()[0], 2),
            "definitions": (
                f"pull_ratio = pull_mb_per_s / curl_mb_per_s (target >= {TARGET_RATIO}, worker "
                f"peak RSS < {RSS_LIMIT_MB} MB); curl side: curl -o FILE && sha256sum FILE && sync"
            ),
        },
    }


if __name__ == "__main__":
    if sys.argv[1:] == ["--child"]:
        child()
    else:
        print(json.dumps(measure(), indent=2))
