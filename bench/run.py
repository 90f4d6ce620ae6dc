"""`make bench`: seed, start gunicorn (production config), load it, print one JSON result.

Everything runs on this machine, on loopback only, and stops by itself. Settings (environment):

- BENCH_DATABASE_URL  PostgreSQL database to DROP and recreate (default: ir_bench on 127.0.0.1)
- BENCH_REDIS_URL     Redis database, flushed first (default: redis://127.0.0.1:6379/8)
- BENCH_SECONDS       length of each saturation phase (default 15)
- BENCH_HELD_SECONDS  length of the held load, all signed-in pages at their own intervals with
  their pulses, staff consoles open, calls and spot checks (default 60)
- BENCH_CANDIDATES / BENCH_SIGNED_IN / BENCH_SMALL  sizes (default 5000 / 3000 / 500)
- BENCH_PULL_MB       size of the recording pulled against curl (default 200; bench/pull.py)
- BENCH_IMPORT_ROWS / BENCH_EXPORT_CANDIDATES  candidate import and results export (default
  10000 / 5000; bench/imports.py, on the bench database)
- BENCH_STAFF=0       no staff consoles in the held load (to see what they cost)
- BENCH_LOAD_ONLY=1   the load alone: no staff pages before it, no pull, no import or export
  (to iterate on the held load; `target_met` is then false, as not everything was measured)
- BENCH_ACCESS_LOG=1  gunicorn's access log, in the run's folder (off, as in production)

The app runs with generous code-entry budgets (CODE_FAILURES_*), because 1,000 sign-ins come
from one address here; correct codes never count against them anyway (only refusals do).
"""

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = "postgresql://postgres@127.0.0.1:5432/ir_bench"
DEFAULT_REDIS = "redis://127.0.0.1:6379/8"
GENEROUS_LIMIT = "1000000 per minute"
SQL_HEADER = "X-Bench-SQL-Queries"
SERVER_MS_HEADER = "X-Bench-Server-Ms"
# Issue 20.3: each staff page at 5,000 candidates in one exam.
STAFF_PAGE_MS, STAFF_PAGE_BYTES = 300, 200_000
# Issue 20.2: the held load.
HELD_P99_MS, ANSWERED_RATIO, RING_P99_MS = 250, 0.99, 3000
TARGET_RATIO = 0.7


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def app_environment(instance: str) -> dict:
    """What the app under test (and the seeding, in this process) sees."""
    return {
        "DATABASE_URL": os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB),
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS),
        "SECRET_KEY": "bench-secret-key-not-for-production",
        # Production's start rules (app/production_settings.py): the bench has no Jitsi.
        "JITSI_ALLOW_PUBLIC": "1",
        "JIBRI_WEBHOOK_SECRET": "bench-jibri-secret-not-for-production",
        "INSTANCE_DIR": instance,
        "CODE_FAILURES_PER_ADDRESS": GENEROUS_LIMIT,
        "CODE_FAILURES_GLOBAL": GENEROUS_LIMIT,
        "STAFF_LOGIN_FAILURES_PER_ADDRESS": GENEROUS_LIMIT,
        "BENCH_COUNT_SQL": "1",
    }


def seed_everything(sizes: dict[str, int]) -> dict:
    import redis

    from app import create_app, db
    from app.day.pulse import pulse_token, wake_tag
    from bench.seed import recreate_database, seed

    recreate_database(os.environ["DATABASE_URL"])
    redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()
    app = create_app()
    with app.app_context():
        seeded = seed(sizes).as_dict()
        # What each page was given (base.html's data-pulse-url, data-wake-tag): the same keys.
        for exam in seeded["exams"].values():
            exam["pages"] = [
                [
                    f"/pulse/{exam['exam_id']}/{panel}/{pulse_token(exam['exam_id'], panel)}",
                    wake_tag(cid),
                    panel,
                    cid,
                ]
                for cid, panel in exam["people"]
            ]
        db.session.remove()
        db.engine.dispose()
    return seeded


def queue_of(exam: dict, signed_in: int) -> tuple[dict, dict]:
    """Per panel, of the signed-in: the first in the queue (lot 1: the chief's call reaches
    her) and those further back than the pages that poll fast (the assistants spot-check them)."""
    from app.day.poll_interval import NEAR

    place: dict[int, int] = {}
    first, far = {}, {}
    for (_code, state), (cid, panel) in list(zip(exam["codes"], exam["people"], strict=True))[
        :signed_in
    ]:
        if state != "waiting":
            continue
        place[panel] = place.get(panel, 0) + 1
        if place[panel] == 1:
            first[str(panel)] = cid
        elif place[panel] > NEAR + 1:
            far.setdefault(str(panel), []).append(cid)
    return first, far


def staff_pages_to_measure(app_rules: list[tuple[str, str]], seeded: dict) -> dict:
    """Every staff page that grows with the exam (issue 20.3), per exam: HR's candidates list,
    overview, codes, slips, results and a candidate's timeline, the assistant's console and its
    board, the examiner's console and its room."""
    pages = {}
    for label, exam in seeded["exams"].items():
        exam_id, panel_id = exam["exam_id"], exam["panel_ids"][0]
        first_candidate = exam["people"][0][0]
        pages[label] = {
            "hr_candidates": ("hr", f"/hr/exams/{exam_id}/candidates"),
            "hr_codes": ("hr", f"/hr/exams/{exam_id}/codes"),
            "hr_slips": ("hr", f"/hr/exams/{exam_id}/slips"),
            "hr_results": ("hr", f"/hr/exams/{exam_id}/results"),
            "hr_timeline": ("hr", f"/hr/exams/{exam_id}/candidates/{first_candidate}/timeline"),
            "assistant_console": ("assistant", f"/assistant/panels/{panel_id}"),
            "assistant_board": ("assistant", f"/assistant/panels/{panel_id}/board"),
            "examiner_queue": ("chief", f"/examiner/panels/{panel_id}"),
            # What the examiner's console polls (the queue and the clock).
            "examiner_room": ("chief", f"/examiner/panels/{panel_id}/room"),
        }
        for endpoint, rule in app_rules:
            # The HR overview (app/routes/hr/overview.py) is measured as soon as it exists.
            if (
                endpoint.startswith("hr_overview.")
                and rule.count("<") == 1
                and "<int:exam_id>" in rule
            ):
                pages[label][endpoint] = ("hr", rule.replace("<int:exam_id>", str(exam_id)))
    return pages


def _rules() -> list[tuple[str, str]]:
    from app import create_app

    app = create_app()
    return [(r.endpoint, r.rule) for r in app.url_map.iter_rules() if "GET" in (r.methods or ())]


def staff_login(base: str, username: str, password: str) -> requests.Session:
    import re

    http = requests.Session()
    page = http.get(f"{base}/staff/login", timeout=10)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)
    response = http.post(
        f"{base}/staff/login",
        timeout=10,
        allow_redirects=False,
        data={"username": username, "password": password, "csrf_token": token},
    )
    if response.status_code != 302:
        raise RuntimeError(f"staff login {username}: {response.status_code}")
    return http


def measure_page(
    http: requests.Session, url: str, times: int = 5, headers: dict | None = None
) -> dict:
    durations, server, queries, statuses = [], [], set(), set()
    for _ in range(times):
        started = time.perf_counter()
        response = http.get(url, timeout=30, allow_redirects=False, headers=headers)
        durations.append((time.perf_counter() - started) * 1000)
        server.append(float(response.headers.get(SERVER_MS_HEADER, "nan")))
        statuses.add(response.status_code)
        queries.add(int(response.headers.get(SQL_HEADER, -1)))
    return {
        "status": sorted(statuses),
        "median_ms": round(statistics.median(durations), 1),
        "server_ms": round(statistics.median(server), 1),
        "sql_queries": sorted(queries)[0] if len(queries) == 1 else sorted(queries),
        "bytes": len(response.content),
    }


def measure_poll(http: requests.Session, url: str, times: int = 5) -> dict:
    """The page's own htmx poll: the fragment, then the same again with its ETag."""
    first = http.get(url, timeout=30, allow_redirects=False, headers={"HX-Request": "true"})
    etag = first.headers.get("ETag")
    headers = {"HX-Request": "true", **({"If-None-Match": etag} if etag else {})}
    result = measure_page(http, url, times, headers)
    result["etag"] = etag is not None
    return result


def measure_staff(base: str, seeded: dict, pages: dict) -> dict:
    from bench.seed import STAFF_PASSWORD

    results = {}
    hr = staff_login(base, seeded["hr"], STAFF_PASSWORD)
    biggest = max(exam["candidates"] for exam in seeded["exams"].values())
    for label, exam in seeded["exams"].items():
        chief = staff_login(base, exam["chief"], STAFF_PASSWORD)
        assistant = staff_login(base, exam["assistant"], STAFF_PASSWORD)
        sessions = {"hr": hr, "chief": chief, "assistant": assistant}
        for name, (who, url) in pages[label].items():
            page = measure_page(sessions[who], base + url)
            page["poll"] = measure_poll(sessions[who], base + url)
            results.setdefault(name, {})[f"{exam['candidates']}_candidates"] = page
        chief.close()
        assistant.close()
    hr.close()
    for by_size in results.values():
        counts = [(r["sql_queries"], r["poll"]["sql_queries"]) for r in by_size.values()]
        by_size["queries_constant"] = len({json.dumps(c) for c in counts}) == 1
        by_size["all_200"] = all(
            r["status"] == [200] for r in by_size.values() if isinstance(r, dict)
        )
        big = by_size.get(f"{biggest}_candidates", {})
        by_size["within_300_ms_and_200_kB"] = bool(
            big and big["server_ms"] <= STAFF_PAGE_MS and big["bytes"] <= STAFF_PAGE_BYTES
        )
    return results


def start_gunicorn(port: int, instance: str) -> subprocess.Popen:
    env = {**os.environ, "GUNICORN_BIND": f"127.0.0.1:{port}"}
    # Off in production (gunicorn.conf.py), so off here: a line per poll costs the app CPU.
    if os.environ.get("BENCH_ACCESS_LOG") == "1":
        env["GUNICORN_ACCESS_LOG"] = str(Path(instance) / "access.log")
    # The child keeps its own copy of the log's descriptor: ours can close at once.
    with open(Path(instance) / "gunicorn.log", "w") as log:
        process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "-c",
                "gunicorn.conf.py",
                "bench.wsgi:app",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    # Five workers importing the app at once take a while on a busy 2-core machine.
    deadline = time.time() + 120
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited: see {instance}/gunicorn.log")
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except requests.RequestException:
            pass
        time.sleep(0.2)
    process.terminate()
    raise RuntimeError("gunicorn did not become healthy in 120 s")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def main() -> int:
    sizes = {"big": _env_int("BENCH_CANDIDATES", 5000), "small": _env_int("BENCH_SMALL", 500)}
    signed_in = _env_int("BENCH_SIGNED_IN", 3000)
    load_only = os.environ.get("BENCH_LOAD_ONLY") == "1"
    instance = tempfile.mkdtemp(prefix="ir-bench-")
    os.environ.update(app_environment(instance))
    log(
        f"code-entry limits raised to '{GENEROUS_LIMIT}' (CODE_FAILURES_PER_ADDRESS, "
        f"CODE_FAILURES_GLOBAL): all {signed_in} sign-ins come from 127.0.0.1"
    )
    log(
        f"seeding {sizes} candidates into {os.environ['DATABASE_URL']} (recreated), "
        f"Redis {os.environ['REDIS_URL']} (flushed)"
    )
    started = time.perf_counter()
    seeded = seed_everything(sizes)
    log(f"seeded in {time.perf_counter() - started:.1f} s")
    pages = staff_pages_to_measure(_rules(), seeded)
    big = seeded["exams"]["big"]
    first, far = queue_of(big, signed_in)

    from app.day.pulse import PULSE_SECONDS
    from bench import nginx_front
    from bench.seed import STAFF_PASSWORD

    port = _free_port()
    server = start_gunicorn(port, instance)
    base = f"http://127.0.0.1:{port}"
    front_process, front = None, base
    if nginx_front.available():
        front_process, front_port = nginx_front.start(port, Path(instance))
        front = f"http://127.0.0.1:{front_port}"
    workers = int(os.environ.get("GUNICORN_WORKERS") or (os.cpu_count() or 1) * 2 + 1)
    log(f"gunicorn -c gunicorn.conf.py on {base} ({workers} gthread workers); logs in {instance}")
    log(f"front: {'nginx (deploy/nginx, plain HTTP) on ' + front if front_process else 'none'}")
    plan = {
        "base_url": base,
        "front_url": front,
        # The first `signed_in` of the big exam: every panel, every state, lots from 1.
        "candidates": [
            [code, state, *page]
            for (code, state), page in list(zip(big["codes"], big["pages"], strict=True))[
                :signed_in
            ]
        ],
        "concurrency": 32,
        "connections": 64,  # deploy/nginx: `keepalive 64` upstream connections
        "seconds": _env_int("BENCH_SECONDS", 15),
        "held_seconds": _env_int("BENCH_HELD_SECONDS", 60),
        "pulse_seconds": float(PULSE_SECONDS),  # as candidate.js is told (app/day/pulse.py)
        "ceiling_path": "/healthz",
        "staff_password": STAFF_PASSWORD,
        "staff": [
            *(
                {"username": c, "page": f"/examiner/panels/{p}", "panel": p}
                for c, p in zip(big["chiefs"], big["panel_ids"], strict=True)
            ),
            *(
                {"username": a, "page": f"/assistant/panels/{p}", "panel": p}
                for a, p in zip(big["assistants"], big["panel_ids"], strict=True)
            ),
            {"username": seeded["hr"], "page": f"/hr/exams/{big['exam_id']}/overview"},
        ],
        "first_in_queue": first,
        "far_back": far,
    }
    if os.environ.get("BENCH_STAFF") == "0":  # to see what the staff's consoles cost
        plan["staff"] = []
    try:
        # Before the load: it calls and spot-checks in the big exam, and the pages are compared
        # at two sizes of the same shape.
        if not load_only:
            log(f"staff pages at {sizes['small']} and {sizes['big']} candidates")
        staff = {} if load_only else measure_staff(base, seeded, pages)
        log(
            f"load: sign in {len(plan['candidates'])}, ceiling /healthz {plan['seconds']} s, "
            f"polls flat out {plan['seconds']} s, then every page at its own interval with its "
            f"pulse, staff consoles open, calls and spot checks, for {plan['held_seconds']} s"
        )
        load = subprocess.run(
            [sys.executable, "-m", "bench.load"],
            cwd=ROOT,
            check=True,
            input=json.dumps(plan),
            stdout=subprocess.PIPE,  # its phases are logged on stderr as they start
            text=True,
        )
        load = json.loads(load.stdout)
    finally:
        if front_process is not None:
            stop(front_process)
        stop(server)

    if load_only:
        result = summarise(load, staff, plan, sizes, workers)
        result["setup"]["front"] = "nginx" if front_process else "gunicorn only (nginx not found)"
        result["target_met"], result["load_only"] = False, True
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return 0

    from bench.pull import measure as measure_pull

    log("recording pull against curl -o FILE && sha256sum FILE && sync (bench/pull.py)")
    log("10,000-row candidate import and 5,000-candidate results export (bench/imports.py)")
    imports = subprocess.run(
        [sys.executable, "-m", "bench.imports"],
        cwd=ROOT,
        env={**os.environ, "BENCH_IMPORT_DATABASE_URL": os.environ["DATABASE_URL"]},
        check=True,
        capture_output=True,
        text=True,
    )
    result = {
        **summarise(load, staff, plan, sizes, workers),
        **measure_pull(),
        **json.loads(imports.stdout),
    }
    result["setup"]["front"] = "nginx" if front_process else "gunicorn only (nginx not found)"
    result["target_met"] = bool(
        result["target_met"]
        and result.get("pull_target_met", True)
        and result.get("import_export_target_met", True)
    )
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


def summarise(load: dict, staff: dict, plan: dict, sizes: dict, workers: int) -> dict:
    held, saturated, ceiling = (
        load.get("held", {}),
        load.get("poll_saturated", {}),
        load.get("ceiling", {}),
    )
    ratio = (
        (saturated["per_s"] / ceiling["per_s"])
        if saturated.get("per_s") and ceiling.get("per_s")
        else None
    )
    sql_304 = saturated.get("sql_queries", {}).get("304", {})
    errors = sum(
        load.get(k, {}).get("errors", 0)
        for k in (
            "sign_in",
            "first_poll",
            "ceiling",
            "poll_saturated",
            "held",
            "pulse",
            "staff_polls",
            "staff_actions",
            "staff_sign_in",
        )
    )
    offered = held.get("offered") or 0
    answered_ratio = round(held.get("requests", 0) / offered, 4) if offered else None
    rings = load.get("rings", {})
    ring_p99 = max((r.get("p99_ms") or 0) for r in rings.values()) if rings else None
    rings_all_shown = all(r.get("not_shown", 0) == 0 and r.get("count") for r in rings.values())
    held_targets = {
        "zero_errors": errors == 0,
        "answered_ratio_at_least_0.99": answered_ratio is not None
        and answered_ratio >= ANSWERED_RATIO,
        "held_p99_at_most_250_ms": held.get("p99_ms") is not None and held["p99_ms"] <= HELD_P99_MS,
        "rings_p99_at_most_3_s": bool(rings) and rings_all_shown and ring_p99 <= RING_P99_MS,
        "ratio_at_least_0.7": ratio is not None and ratio >= TARGET_RATIO,
        "staff_pages_constant_and_200": all(
            p["queries_constant"] and p["all_200"] for p in staff.values()
        ),
        "staff_pages_300_ms_200_kB": all(p["within_300_ms_and_200_kB"] for p in staff.values()),
    }
    return {
        "polls_per_s": saturated.get("per_s"),
        "p50_ms": held.get("p50_ms"),
        "p99_ms": held.get("p99_ms"),
        "errors": errors,
        "sql_queries_per_poll": sql_304.get("max"),
        "ceiling_per_s": ceiling.get("per_s"),
        "ratio": round(ratio, 2) if ratio is not None else None,
        "target_met": all(held_targets.values()),
        "targets": held_targets,
        "held_load": {
            "candidates_polling": load.get("sign_in", {}).get("signed_in"),
            "seconds": plan["held_seconds"],
            "intervals_at_start": held.get("intervals_at_start"),
            "offered": offered,
            "answered_ratio": answered_ratio,
            "offered_per_s": held.get("offered_per_s"),
            "polls_per_s": held.get("per_s"),
            "p50_ms": held.get("p50_ms"),
            "p99_ms": held.get("p99_ms"),
            "p99_ms_by_10_s": held.get("p99_ms_by_10_s"),
            "errors": held.get("errors"),
            "error_samples": held.get("error_samples"),
            "status": held.get("status"),
            "sql_queries": held.get("sql_queries"),
        },
        "pulse": load.get("pulse"),
        "rings": rings,
        "held_server_time": load.get("server_time"),
        "held_cpu_cores": load.get("held_cpu_cores"),
        "load_generator_lag": load.get("load_generator_lag"),
        "staff_consoles_open": {
            **(load.get("staff_sign_in") or {}),
            "polls": load.get("staff_polls"),
            "actions": load.get("staff_actions"),
        },
        "poll_saturated": saturated,
        "ceiling": {"path": plan["ceiling_path"], **ceiling},
        "first_poll": load.get("first_poll"),
        "sign_in": load.get("sign_in"),
        "staff_pages": staff,
        "definitions": {
            "polls_per_s": "candidate polls (/me/state, 304) answered per second, clients back to back",
            "ceiling_per_s": f"{plan['ceiling_path']} answered per second, same clients",
            "ratio": "polls_per_s / ceiling_per_s (target >= 0.7)",
            "p50_ms, p99_ms": "latency of the candidates' polls in the held load (each page at "
            "its X-Poll-Interval, woken by its pulse, through nginx)",
            "answered_ratio": "held-load polls answered 200/304 / polls the pages sent",
            "rings": "a chief's call (the first in the queue) or an assistant's spot check (a "
            "candidate further back than the fast pages): POST sent to the ring on her page; "
            "post_p50_ms, post_p99_ms: the POST alone, to its answer",
            "staff_pages": "median of 5 GETs; server_ms is the app's own time "
            "(X-Bench-Server-Ms); target at the biggest exam: <= 300 ms and <= 200 kB",
            "sql_queries_per_poll": "statements per unchanged poll (X-Bench-SQL-Queries)",
            "p99_ms_by_10_s": "the held polls' p99 in each 10 s of the held load, in order",
            "load_generator_lag": "how late the load generator's own event loop woke a 20 ms "
            "sleeper during the held load: time in every figure here that is its, not the app's",
        },
        "setup": {
            "candidates": sizes,
            "gunicorn_workers": workers,
            "gunicorn_threads": int(os.environ.get("GUNICORN_THREADS") or 4),
            "load_concurrency": plan["concurrency"],
            "pooled_connections": plan["connections"],
            "cpus": os.cpu_count(),
            # Other work on the machine skews every number: compare runs with similar loads.
            "load_average_1m_at_end": round(os.getloadavg()[0], 2),
            "code_entry_limits": GENEROUS_LIMIT,
        },
    }


if __name__ == "__main__":
    sys.exit(main())
