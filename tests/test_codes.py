from datetime import timedelta

from app import db
from app.models import Candidate
from app.setup.codes import allocate_codes, conflicting_codes, overlapping_exam_ids
from app.timeutil import utcnow
from tests.factories import gen_exam


def _add(exam, codes):
    for i, code in enumerate(codes):
        db.session.add(
            Candidate(
                exam_id=exam.id,
                name=f"考生{i}",
                id_number=f"{exam.id:02d}{i:016d}",
                phone="13800138000",
                position="岗位",
                code=code,
            )
        )
    db.session.commit()


def test_codes_are_six_digits_and_unique_within_the_exam(app):
    exam = gen_exam()
    codes = allocate_codes(exam, 500)
    assert len(set(codes)) == 500
    assert all(len(c) == 6 and c.isdigit() for c in codes)


def test_codes_avoid_exams_whose_windows_or_return_periods_overlap_only(app):
    """A code is accepted from its login window's opening until 12 h (RETURN_WINDOW) after it
    closes, for candidates coming back: exams clash when those spans overlap (issue 14)."""
    now = utcnow()
    a = gen_exam("A", login_opens_at=now, login_closes_at=now + timedelta(hours=4))
    overlapping = gen_exam(
        "B", login_opens_at=now + timedelta(hours=3), login_closes_at=now + timedelta(hours=9)
    )
    returning = gen_exam(  # opens as A's window closes, while A's candidates may still return
        "C", login_opens_at=now + timedelta(hours=4), login_closes_at=now + timedelta(hours=8)
    )
    later = gen_exam(  # opens when A's return period is over
        "D", login_opens_at=now + timedelta(hours=16), login_closes_at=now + timedelta(hours=18)
    )
    assert overlapping_exam_ids(a) == sorted([a.id, overlapping.id, returning.id])
    assert later.id not in overlapping_exam_ids(a)  # touching end-to-start do not overlap
    assert a.id not in overlapping_exam_ids(later)

    _add(overlapping, [f"{i:06d}" for i in range(1000)])
    fresh = allocate_codes(a, 2000)
    assert not set(fresh) & {f"{i:06d}" for i in range(1000)}


def test_codes_do_not_collide_with_rest_room_codes(app):
    from app.models import Panel

    exam = gen_exam()
    db.session.add(
        Panel(
            exam_id=exam.id, name="P", interview_room="r1", rest_room="r2", rest_room_code="123456"
        )
    )
    db.session.commit()
    assert "123456" not in allocate_codes(exam, 5000)


def test_conflicts_show_up_when_a_window_is_moved_onto_another_exam(app):
    now = utcnow()
    a = gen_exam("A", login_opens_at=now, login_closes_at=now + timedelta(hours=2))
    b = gen_exam(
        "B",
        login_opens_at=now + timedelta(days=1),
        login_closes_at=now + timedelta(days=1, hours=2),
    )
    _add(a, ["111111", "222222"])
    _add(b, ["111111"])  # legal: the windows do not overlap
    assert conflicting_codes(a) == set()
    b.login_opens_at = now + timedelta(hours=1)
    assert conflicting_codes(b) == {"111111"}
