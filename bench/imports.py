"""Import and export at scale: a 10,000-row candidate XLSX (clean, then with one bad row) through
the real import (app.setup.roster.import_candidates: all rows or none, errors per row), and the
results XLSX (app.scoring.results.results_xlsx) of a 5,000-candidate exam.

Runs on a throw-away SQLite database unless BENCH_IMPORT_DATABASE_URL names one (created tables,
never dropped: give it an empty database). Sizes: BENCH_IMPORT_ROWS, BENCH_EXPORT_CANDIDATES.
The exported exam's candidates have no scores yet: the file has every row and column, the
score cells are empty. `python -m bench.imports` prints the JSON.
"""

from __future__ import annotations

import io
import json
import os
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

IMPORT_TARGET_S = 10.0
EXPORT_TARGET_S = 5.0
HEADER = ["姓名", "身份证号", "手机号", "报考岗位"]


def _id_number(index: int) -> str:
    # GB 11643 check character (ISO 7064 MOD 11-2), so every row is a valid ID number.
    first_17 = (
        f"1101051990{(index // 10000) % 12 + 1:02d}{(index // 1000) % 28 + 1:02d}{index % 1000:03d}"
    )
    remainder = 0
    for digit in first_17:
        remainder = (remainder + int(digit)) * 2 % 11
    value = (12 - remainder) % 11
    return first_17 + ("X" if value == 10 else str(value))


def candidates_xlsx(rows: int, start: int = 0, bad_row: int | None = None) -> bytes:
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(HEADER)
    for i in range(start, start + rows):
        phone = f"138{i:08d}" if i - start != bad_row else "12345"
        sheet.append([f"考生{i:05d}", _id_number(i), phone, f"岗位{i % 7 + 1}"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _timed(function, *args):
    started = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - started


def measure() -> dict:
    rows = int(os.environ.get("BENCH_IMPORT_ROWS") or 10_000)
    export_size = int(os.environ.get("BENCH_EXPORT_CANDIDATES") or 5_000)
    work = tempfile.mkdtemp(prefix="ir-bench-imports-")
    os.environ.setdefault("SECRET_KEY", "bench-imports-secret-not-for-production")
    os.environ["DATABASE_URL"] = (
        os.environ.get("BENCH_IMPORT_DATABASE_URL") or f"sqlite:///{work}/imports.db"
    )
    os.environ["INSTANCE_DIR"] = work
    # A throw-away database and no Redis: the start rules of production do not apply.
    os.environ["INTERVIEW_ROOM_ENV"] = "development"

    from sqlalchemy import func, select

    from app import create_app, db
    from app.models import Candidate, Exam, ExamKind
    from app.scoring.results import results_xlsx
    from app.setup.roster import import_candidates
    from app.timeutil import utcnow

    clean = candidates_xlsx(rows)
    broken = candidates_xlsx(rows, start=rows, bad_row=rows // 2)
    export_file = candidates_xlsx(export_size, start=2 * rows)
    app = create_app()
    with app.app_context(), app.test_request_context():
        db.create_all()
        now = utcnow()
        exams = [
            Exam(
                name=f"导入测试{n}",
                kind=ExamKind.FORMAL,
                login_opens_at=now,
                login_closes_at=now + timedelta(hours=8),
            )
            for n in range(3)
        ]
        db.session.add_all(exams)
        db.session.commit()
        ids = [exam.id for exam in exams]
        report, import_s = _timed(import_candidates, exams[0], "考生.xlsx", clean)
        imported = db.session.scalar(
            select(func.count()).select_from(Candidate).where(Candidate.exam_id == ids[0])
        )
        refused, refused_s = _timed(
            import_candidates, db.session.get(Exam, ids[1]), "考生.xlsx", broken
        )
        written = db.session.scalar(
            select(func.count()).select_from(Candidate).where(Candidate.exam_id == ids[1])
        )
        assert import_candidates(db.session.get(Exam, ids[2]), "考生.xlsx", export_file).ok
        data, export_s = _timed(results_xlsx, db.session.get(Exam, ids[2]))
        backend = db.engine.url.get_backend_name()
        db.session.remove()
    return {
        "import_rows": rows,
        "import_seconds": round(import_s, 2),
        "import_ok": bool(report.ok and imported == rows),
        "import_refused_seconds": round(refused_s, 2),
        "import_refused_ok": bool(not refused.ok and written == 0 and len(refused.errors) == 1),
        "export_candidates": export_size,
        "export_seconds": round(export_s, 2),
        "export_bytes": len(data),
        "import_export_target_met": bool(
            import_s <= IMPORT_TARGET_S
            and refused_s <= IMPORT_TARGET_S
            and export_s <= EXPORT_TARGET_S
            and report.ok
        ),
        "import_export_setup": {
            "database": backend,
            "load_average_1m": round(os.getloadavg()[0], 2),
            "xlsx_bytes": len(clean),
            "export_scores": "none yet (every row and column, empty score cells)",
        },
    }


if __name__ == "__main__":
    print(json.dumps(measure(), indent=2, ensure_ascii=False))
