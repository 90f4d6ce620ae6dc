"""Putting candidates into an exam: all rows of a clean file, or none."""

from sqlalchemy import select

from app import audit, db
from app.setup.candidate_file import ImportReport, parse_candidates
from app.setup.codes import allocate_codes
from app.models import Candidate, Exam


def import_candidates(exam: Exam, filename: str, data: bytes) -> ImportReport:
    """Validate the whole file and, only if every row is clean, add every candidate with a code.

    Commits on success; on any error nothing is written and the report says why, row by row.
    """
    existing = set(db.session.scalars(select(Candidate.id_number).where(Candidate.exam_id == exam.id)))
    report = parse_candidates(filename, data, existing)
    if not report.ok:
        return report
    try:
        codes = allocate_codes(exam, len(report.rows))
        for row, code in zip(report.rows, codes, strict=True):
            db.session.add(
                Candidate(
                    exam_id=exam.id,
                    name=row.name,
                    id_number=row.id_number,
                    phone=row.phone,
                    position=row.position,
                    code=code,
                )
            )
        audit.record("candidates.imported", exam_id=exam.id, file=filename, count=len(report.rows))
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return report
