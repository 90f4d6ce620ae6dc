"""The staff consoles and the HR overview at 500 and 5,000 candidates, in-process.

Seeds (bench/seed.py, into BENCH_DATABASE_URL, recreated) an exam of 500 and one of 5,000
over 10 panels, plus one of 5,000 in a single panel; moves some candidates into the states a
console shows on exam day (debug queue, rest room, finished, help, violations, a long audit
trail for one candidate); then asks each page through the Flask test client and prints, per
page and size: server time (median of 5, ms), body bytes and SQL statements. bench/run.py is
the lead's; this probe is what the consoles' numbers in README come from.

    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/ir_consoles_bench \
    BENCH_REDIS_URL=redis://127.0.0.1:6392/9 .venv/bin/python -m bench.consoles_probe
"""

import json
import os
import re
import statistics
import sys
import tempfile
import time
from datetime import timedelta

SIZES = {"small": 500, "big": 5000, "onepanel": 5000}


def main() -> int:
    url = os.environ.get(
        "BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/ir_consoles_bench"
    )
    os.environ.update(
        DATABASE_URL=url,
        REDIS_URL=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6392/9"),
        SECRET_KEY="probe-secret-key-not-for-production",
        JITSI_ALLOW_PUBLIC="1",
        JIBRI_WEBHOOK_SECRET="probe-jibri-secret-not-for-production",
        INSTANCE_DIR=tempfile.mkdtemp(prefix="probe-"),
        STAFF_LOGIN_FAILURES_PER_ADDRESS="1000000 per minute",
    )
    import sqlalchemy as sa
    from sqlalchemy import event

    from app import create_app, db
    from app.models import AuditEvent, HelpRequest, Violation
    from app.models.candidate import Candidate
    from app.redis_conn import get_redis
    from app.timeutil import utcnow
    from bench.seed import STAFF_PASSWORD, recreate_database, seed

    if "--no-seed" not in sys.argv:
        recreate_database(url)
    app = create_app()
    app.config["WTF_CSRF_ENABLED"] = True
    with app.app_context():
        get_redis().flushdb()
        if "--no-seed" not in sys.argv:
            seeded = seed(SIZES).as_dict()
            now = utcnow()
            for label, exam in seeded["exams"].items():
                panels = exam["panel_ids"]
                if label == "onepanel":
                    db.session.execute(
                        sa.update(Candidate)
                        .where(Candidate.exam_id == exam["exam_id"])
                        .values(
                            panel_id=panels[0],
                            # one panel, one numbering: distinct, in the order of the ids
                            lot_number=sa.case(
                                (Candidate.lot_number.is_not(None), Candidate.id),
                                else_=None,
                            ),
                        )
                    )
                ids = list(
                    db.session.scalars(
                        sa.select(Candidate.id)
                        .where(Candidate.exam_id == exam["exam_id"])
                        .order_by(Candidate.id)
                    )
                )
                n = len(ids)
                # A tenth each: in the debug queue, debugged, resting, released; a few signed in.
                plan = [
                    ("debug_waiting", ids[: n // 10]),
                    ("debugged", ids[n // 10 : n // 5]),
                    ("resting", ids[n // 5 : 3 * n // 10]),
                    ("released", ids[3 * n // 10 : 4 * n // 10]),
                ]
                for state, chunk in plan:
                    values = {"state": state, "state_changed_at": now - timedelta(minutes=5)}
                    if state in ("resting", "released"):
                        values["finished_at"] = now - timedelta(minutes=10)
                    db.session.execute(
                        sa.update(Candidate).where(Candidate.id.in_(chunk)).values(**values)
                    )
                db.session.execute(
                    sa.update(Candidate)
                    .where(Candidate.exam_id == exam["exam_id"], Candidate.state == "waiting")
                    .values(session_nonce="probe")
                )
                # One in 47 asks for help and is flagged: spread over the panels (47 is prime
                # to the 10 panels), about 10 open help requests per panel of 500.
                for cid in ids[::47]:
                    db.session.add(HelpRequest(candidate_id=cid, message="求助"))
                    db.session.add(Violation(candidate_id=cid, kind="切屏", note=""))
                # One candidate with a long trail (a day of reconnects and switches).
                db.session.add_all(
                    AuditEvent(
                        kind="candidate.login" if i % 2 else "candidate.suspected_switch",
                        actor_type="candidate",
                        actor_id=ids[0],
                        candidate_id=ids[0],
                        exam_id=exam["exam_id"],
                        data={"seconds": i},
                    )
                    for i in range(2000)
                )
            db.session.commit()
            with open(os.path.join(tempfile.gettempdir(), "probe_seeded.json"), "w") as out:
                json.dump(seeded, out)
        with open(os.path.join(tempfile.gettempdir(), "probe_seeded.json")) as inp:
            seeded = json.load(inp)

    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    def login(username):
        client = app.test_client()
        page = client.get("/staff/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        answer = client.post(
            "/staff/login",
            data={"username": username, "password": STAFF_PASSWORD, "csrf_token": token},
        )
        assert answer.status_code == 302, (username, answer.status_code)
        return client

    def measure(client, path, headers=None, times=5):
        durations, counts = [], set()
        response = None
        for _ in range(times):
            statements.clear()
            event.listen(engine, "before_cursor_execute", count)
            started = time.perf_counter()
            response = client.get(path, headers=headers or {})
            durations.append((time.perf_counter() - started) * 1000)
            event.remove(engine, "before_cursor_execute", count)
            counts.add(len(statements))
        return {
            "status": response.status_code,
            "ms": round(statistics.median(durations), 1),
            "bytes": len(response.data),
            "sql": sorted(counts),
            "etag": response.headers.get("ETag"),
        }

    results: dict = {}
    with app.app_context():
        engine = db.engine
        firsts = {
            label: db.session.scalar(
                sa.select(sa.func.min(Candidate.id)).where(Candidate.exam_id == exam["exam_id"])
            )
            for label, exam in seeded["exams"].items()
        }
    # No app context held around the requests: each must get its own `g` (current_user).
    if True:
        hr = login(seeded["hr"])
        for label, exam in seeded["exams"].items():
            chief = login(exam["chief"])
            assistant = login(exam["assistant"])
            eid, pid = exam["exam_id"], exam["panel_ids"][0]
            first = firsts[label]
            pages = {
                "hr_overview": (hr, f"/hr/exams/{eid}/overview"),
                "hr_overview_page3": (hr, f"/hr/exams/{eid}/overview?page=3"),
                "hr_overview_search": (hr, f"/hr/exams/{eid}/overview?q=13800000"),
                "hr_timeline": (hr, f"/hr/exams/{eid}/candidates/{first}/timeline"),
                "assistant_console": (assistant, f"/assistant/panels/{pid}"),
                "assistant_board": (assistant, f"/assistant/panels/{pid}/board"),
                "assistant_spot_checks": (assistant, f"/assistant/panels/{pid}/spot-checks"),
                "examiner_console": (chief, f"/examiner/panels/{pid}"),
                "examiner_room": (chief, f"/examiner/panels/{pid}/room"),
                "examiner_board": (chief, f"/examiner/panels/{pid}/board"),
            }
            polled = {"hr_overview", "assistant_board", "assistant_spot_checks", "examiner_room"}
            for name, (client, path) in pages.items():
                hx = {"HX-Request": "true"}
                page = measure(client, path, hx if name in polled else None)
                if name in polled and page["etag"]:
                    again = measure(client, path, {**hx, "If-None-Match": page["etag"]})
                    page["poll_304"] = {k: again[k] for k in ("status", "ms", "sql")}
                page.pop("etag")
                results.setdefault(name, {})[f"{label}_{exam['candidates']}"] = page
    print(json.dumps(results, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
