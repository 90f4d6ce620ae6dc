"""`make bench-faces` still runs and prints its numbers beside what an exam day needs (a short
run; the speed itself is the benchmark's business, README "Face checks")."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.postgres_pass  # tests/conftest.py: not a database test


def test_bench_faces_prints_stills_per_second_memory_and_the_need():
    env = {
        **os.environ,
        "BENCH_FACE_SECONDS": "0.5",
        "BENCH_FACE_WORKERS": "2",
        "BENCH_PANELS": "4",
        "BENCH_RESTING": "5",
        "BENCH_INTERVAL": "20",
    }
    done = subprocess.run(
        [sys.executable, "-m", "bench.faces"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout[: done.stdout.rindex("}") + 1])
    assert report["in_process_1"]["stills"] >= 1
    assert report["in_process_2"]["workers"] == 2
    assert report["rq_fork_per_still_1"]["stills_per_second"] > 0
    assert report["in_process_1"]["worker_rss_mb"] > 50  # dlib's models are in it
    assert report["needed"]["stills_per_second"] == round(4 * 6 / 20, 2)
    assert "needs 1.20 stills/s" in done.stdout.splitlines()[-1]
