"""HR's list pages at two sizes: server time, body bytes and SQL statements per page.

`python -m bench.staff_lists` seeds BENCH_DATABASE_URL (dropped and recreated) with two exams
(BENCH_STAFF_SIZES, default 500,5000 candidates), signs HR in through the login form and reads
each page with the test client in this process: the median of BENCH_STAFF_REPEAT reads
(default 5) after one warm-up read, printed as one JSON object (milliseconds of server time,
bytes of the body, SQL statements). The candidates list is read as a page, as its htmx poll
(a fragment) and as an unchanged poll (304).
"""

import json
import os
import re
import statistics
import sys
import time

import sqlalchemy as sa

PAGES = {
    "candidates": "/hr/exams/{exam}/candidates",
    "candidates_poll": "/hr/exams/{exam}/candidates",
    "codes": "/hr/exams/{exam}/codes",
    "slips": "/hr/exams/{exam}/slips",
    "results": "/hr/exams/{exam}/results",
}


def _measure(client, url: str, headers: dict, repeat: int, status: int = 200) -> dict:
    from app import db

    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    client.get(url, headers=headers)
    times = []
    for _ in range(repeat):
        statements.clear()
        sa.event.listen(db.engine, "before_cursor_execute", count)
        try:
            start = time.perf_counter()
            response = client.get(url, headers=headers)
            times.append((time.perf_counter() - start) * 1000)
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", count)
        assert response.status_code == status, (url, response.status_code)
    return {
        "ms": round(statistics.median(times), 1),
        "bytes": len(response.get_data()),
        "sql": len(statements),
    }


def main() -> None:
    from app import create_app
    from bench.seed import STAFF_PASSWORD, recreate_database, seed

    sizes = [int(s) for s in os.environ.get("BENCH_STAFF_SIZES", "500,5000").split(",")]
    repeat = int(os.environ.get("BENCH_STAFF_REPEAT") or 5)
    recreate_database(os.environ["DATABASE_URL"])
    app = create_app()
    out: dict = {}
    with app.app_context():
        seeded = seed({f"n{size}": size for size in sizes})
        client = app.test_client()
        page = client.get("/staff/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        client.post(
            "/staff/login",
            data={"username": seeded.hr, "password": STAFF_PASSWORD, "csrf_token": token},
        )
        for exam in seeded.exams.values():
            for name, path in PAGES.items():
                url = path.format(exam=exam.exam_id)
                headers = {"HX-Request": "true"} if name == "candidates_poll" else {}
                out[f"{name}@{exam.candidates}"] = _measure(client, url, headers, repeat)
            # The unchanged poll: the browser sends back the version it shows.
            url = PAGES["candidates"].format(exam=exam.exam_id)
            etag = client.get(url, headers={"HX-Request": "true"}).headers["ETag"]
            headers = {"HX-Request": "true", "If-None-Match": etag}
            out[f"candidates_304@{exam.candidates}"] = _measure(client, url, headers, repeat, 304)
    json.dump(out, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
