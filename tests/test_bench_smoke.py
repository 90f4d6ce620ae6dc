"""`make bench` still runs end to end and prints its JSON (a small run; speed is not tested here).

The benchmark is a deliverable that operators rerun before an exam day: this keeps it from
rotting when the app changes (a renamed route, a new form field at sign-in, a poll that no
longer answers 304). It seeds, starts gunicorn with the production config, signs candidates in
through the code page, polls and measures the staff pages, exactly as the full run does, with
tiny sizes and seconds. The numbers themselves are `make bench`'s business, not a test's.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.postgres_pass  # tests/conftest.py: not a database test


def _postgres_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL") or ""
    return url if url.startswith("postgresql") else None


def test_make_bench_prints_its_json_with_the_ratio():
    bench_db = sa.make_url(_postgres_url()).set(database="ir_bench_smoke")
    env = {
        **os.environ,
        "BENCH_DATABASE_URL": bench_db.render_as_string(hide_password=False),
        "BENCH_REDIS_URL": "redis://127.0.0.1:6379/12",
        "BENCH_CANDIDATES": "60",
        "BENCH_SMALL": "20",
        "BENCH_SIGNED_IN": "20",
        "BENCH_SECONDS": "1",
        "BENCH_HELD_SECONDS": "8",
        "BENCH_PULL_MB": "8",
        "BENCH_IMPORT_ROWS": "300",
        "BENCH_EXPORT_CANDIDATES": "100",
        # Two workers start faster on a busy CI machine; the config file is still the production one.
        "GUNICORN_WORKERS": "2",
    }
    run = subprocess.run(
        [sys.executable, "-m", "bench.run"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout)

    for key in (
        "polls_per_s",
        "p50_ms",
        "p99_ms",
        "errors",
        "sql_queries_per_poll",
        "ceiling_per_s",
        "ratio",
        "target_met",
    ):
        assert key in result, key
    assert result["polls_per_s"] > 0 and result["ceiling_per_s"] > 0
    assert result["ratio"] == pytest.approx(
        result["polls_per_s"] / result["ceiling_per_s"], abs=0.01
    )
    held = result["held_load"]
    assert result["errors"] == 0, (
        held["error_samples"],
        result["pulse"]["error_samples"],
        result["staff_consoles_open"],
    )
    assert result["sql_queries_per_poll"] == 1
    assert result["sign_in"]["signed_in"] == 20
    # The held load really polled, each page at its own interval (2 s near the front of a
    # queue, 10 s elsewhere), answered with 304s as unchanged pages are and 200s where a call
    # rang; every page read its pulse, through nginx where it is installed.
    assert held["offered"] > 0 and set(held["status"]) <= {"200", "304"} and "304" in held["status"]
    assert set(held["intervals_at_start"]) <= {"2", "10"}
    assert 0 < held["answered_ratio"] <= 1
    assert result["pulse"]["requests"] > 0 and result["pulse"]["errors"] == 0
    # Staff kept their consoles open and the chiefs called: the calls' rings were timed.
    consoles = result["staff_consoles_open"]
    assert consoles["signed_in"] == 21 and consoles["polls"]["requests"] > 0
    assert result["rings"]["call"]["count"] > 0
    assert set(result["targets"]) >= {
        "zero_errors",
        "answered_ratio_at_least_0.99",
        "held_p99_at_most_250_ms",
        "rings_p99_at_most_3_s",
        "ratio_at_least_0.7",
        "staff_pages_300_ms_200_kB",
    }
    pages = result["staff_pages"]
    assert {
        "hr_candidates",
        "hr_overview.overview",
        "hr_codes",
        "hr_slips",
        "hr_results",
        "hr_timeline",
        "assistant_console",
        "examiner_queue",
        "examiner_room",
    } <= set(pages)
    for name, page in pages.items():
        assert page["all_200"] and page["queries_constant"], (name, page)
        assert set(page) == {
            "60_candidates",
            "20_candidates",
            "queries_constant",
            "all_200",
            "within_300_ms_and_200_kB",
        }
        assert page["60_candidates"]["server_ms"] > 0
    # The recording pull was really timed against curl on the same file (bench/pull.py).
    assert result["pull_setup"]["file_mb"] == 8
    assert result["pull_mb_per_s"] > 0 and result["curl_mb_per_s"] > 0
    assert result["pull_ratio"] == pytest.approx(
        result["pull_mb_per_s"] / result["curl_mb_per_s"], rel=0.05
    )
    assert 0 < result["pull_worker_max_rss_mb"] < 1000
    assert isinstance(result["pull_target_met"], bool)
    # The import (all rows, then none for a file with one bad row) and the export really ran.
    assert result["import_rows"] == 300 and result["import_ok"] and result["import_refused_ok"]
    assert result["export_candidates"] == 100 and result["export_bytes"] > 0
    assert result["import_export_setup"]["database"] == "postgresql"
    assert isinstance(result["import_export_target_met"], bool)
    assert result["setup"]["gunicorn_workers"] == 2
