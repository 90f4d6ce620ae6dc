"""`make bench-faces`: how many camera stills the face check analyses per second on this
machine, the worker's memory, and the throughput an exam day needs beside it.

Each still is a 480x360 JPEG as the candidate's page sends it (scikit-image's astronaut framed
as a webcam would, a development dependency). It is analysed as the RQ job does
(app/faces/engine.analyse: decode, HOG detection with the image doubled, 5-point shape, ResNet
descriptor), in two ways:
- in-process, by 1 and by BENCH_FACE_WORKERS processes at once (the ceiling);
- as `flask worker` runs jobs: the models loaded once in the parent, a fork per still (RQ's
  work horse), which adds the fork and exit to each still.

Needed: every candidate in an interview or a rest room sends a still every interval, so
panels x (1 + resting per panel) / interval stills per second (identity checks in the debug
call are a few per candidate, once). BENCH_PANELS, BENCH_RESTING, BENCH_INTERVAL set it.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from multiprocessing import get_context
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SECONDS = float(os.environ.get("BENCH_FACE_SECONDS", "10"))
WORKERS = int(os.environ.get("BENCH_FACE_WORKERS", str(os.cpu_count() or 2)))
PANELS = int(os.environ.get("BENCH_PANELS", "10"))
RESTING = int(os.environ.get("BENCH_RESTING", "8"))
INTERVAL = int(os.environ.get("BENCH_INTERVAL", "30"))


def still_bytes() -> bytes:
    from tests import face_photos

    return face_photos.jpeg(face_photos.webcam_scene().resize((480, 360)))


def _max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _analyse_for(seconds: float, data: bytes) -> tuple[int, float, float]:
    from app.faces import engine

    engine.models()
    loaded = _max_rss_mb()
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        analysis = engine.analyse(data)
        assert analysis.faces == 1, analysis
        done += 1
    return done, time.perf_counter() - started, max(loaded, _max_rss_mb())


def in_processes(workers: int, seconds: float, data: bytes) -> dict:
    with get_context("spawn").Pool(workers) as pool:
        results = pool.starmap(_analyse_for, [(seconds, data)] * workers)
    stills = sum(done for done, _, _ in results)
    elapsed = max(took for _, took, _ in results)
    return {
        "workers": workers,
        "stills": stills,
        "stills_per_second": round(stills / elapsed, 2),
        "worker_rss_mb": round(max(rss for _, _, rss in results), 1),
    }


def fork_per_still(seconds: float, data: bytes) -> dict:
    """As RQ's worker: models in the parent, each still in a forked child."""
    from app.faces import engine

    engine.models()
    parent_rss = _max_rss_mb()
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        pid = os.fork()
        if pid == 0:  # the work horse
            ok = engine.analyse(data).faces == 1
            os._exit(0 if ok else 1)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        done += 1
    elapsed = time.perf_counter() - started
    return {
        "workers": 1,
        "stills": done,
        "stills_per_second": round(done / elapsed, 2),
        "parent_rss_mb": round(parent_rss, 1),
    }


def main() -> int:
    data = still_bytes()
    needed = PANELS * (1 + RESTING) / INTERVAL
    one = in_processes(1, SECONDS, data)
    many = in_processes(WORKERS, SECONDS, data) if WORKERS > 1 else one
    forked = fork_per_still(SECONDS, data)
    report = {
        "still_bytes": len(data),
        "cores": os.cpu_count(),
        "in_process_1": one,
        f"in_process_{WORKERS}": many,
        "rq_fork_per_still_1": forked,
        "needed": {
            "panels": PANELS,
            "resting_per_panel": RESTING,
            "interval_seconds": INTERVAL,
            "stills_per_second": round(needed, 2),
        },
    }
    print(json.dumps(report, indent=2))
    print(
        f"face checks: {many['stills_per_second']} stills/s with {WORKERS} processes "
        f"({one['stills_per_second']}/s one, {forked['stills_per_second']}/s one RQ worker forking"
        f" per job; worker {one['worker_rss_mb']} MB); an exam day of {PANELS} panels x "
        f"(1 interviewing + {RESTING} resting) / {INTERVAL} s needs {needed:.2f} stills/s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
