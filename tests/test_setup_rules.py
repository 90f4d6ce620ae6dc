"""HR's setup rules called directly (app/setup/exams, panels, roster, notices, questions): for
each, a real case that passes and one that is refused. The pages that use them are covered by
test_hr_pages.py."""

from datetime import timedelta

import sqlalchemy as sa

from app import db
from app.models import (
    AuditEvent,
    Candidate,
    CandidateState,
    ExaminerScore,
    ExamKind,
    Notice,
    NoticeAck,
    QuestionSet,
    Role,
)
from app.setup.exams import (
    apply_exam_settings,
    changed_settings,
    entry_closable,
    exam_snapshot,
    frozen_changes_refused,
    has_linked_mocks,
)
from app.setup.notices import notice_deletable
from app.setup.panels import (
    create_panel,
    examiners_on_other_panels,
    panel_name_taken,
    set_panel_staff,
)
from app.setup.questions import questions_shown
from app.setup.roster import (
    MOVABLE_STATES,
    commit_candidate_changes,
    distribute_candidates,
    exam_candidates,
    move_candidate,
    next_panel,
    sort_moves,
)
from app.timeutil import utcnow
from tests.conftest import gen_exam, gen_user

S = CandidateState


def gen_candidate(exam, n: int, *, state=S.INVITED, panel=None, position="综合管理", **kw):
    candidate = Candidate(
        exam_id=exam.id,
        name=f"考生{n}",
        id_number=f"11010519900101{n:03d}X",
        phone=f"138{n:08d}",
        position=position,
        code=f"{200000 + n:06d}",
        state=state,
        panel_id=panel.id if panel is not None else None,
        **kw,
    )
    db.session.add(candidate)
    db.session.commit()
    return candidate


def gen_panel(exam, name="第一考场"):
    panel = create_panel(exam, name)
    db.session.commit()
    return panel


# --- exams ------------------------------------------------------------------------------------


def settings_of(exam, **changes) -> dict:
    values = {name: getattr(exam, name) for name in exam_snapshot(exam)}
    return {**values, **changes}


def test_a_mock_keeps_its_formal_exam_and_needs_no_mock(app):
    formal = gen_exam("正式")
    mock = gen_exam("模拟", kind=ExamKind.MOCK)
    apply_exam_settings(mock, settings_of(mock, formal_exam_id=formal.id, requires_mock=True))
    assert mock.formal_exam_id == formal.id and mock.requires_mock is False


def test_a_formal_exam_links_to_no_formal_exam(app):
    other = gen_exam("另一场")
    exam = gen_exam()
    apply_exam_settings(exam, settings_of(exam, formal_exam_id=other.id, requires_mock=True))
    assert exam.formal_exam_id is None and exam.requires_mock is True


def test_a_formal_exam_with_linked_mocks_is_known(app):
    formal = gen_exam("正式")
    assert not has_linked_mocks(formal)
    gen_exam("模拟", kind=ExamKind.MOCK, formal_exam_id=formal.id)
    assert has_linked_mocks(formal)


def test_the_scoring_rule_may_change_until_an_examiner_scores(app):
    exam = gen_exam(scoring_rule="trimmed")
    candidate = gen_candidate(exam, 1)
    assert frozen_changes_refused(exam, settings_of(exam, scoring_rule="plain")) == {}

    examiner = gen_user("kg1", role=Role.EXAMINER)
    db.session.add(ExaminerScore(candidate_id=candidate.id, examiner_id=examiner.id))
    db.session.commit()
    refused = frozen_changes_refused(exam, settings_of(exam, scoring_rule="plain"))
    assert list(refused) == ["scoring_rule"] and "计分规则不能再改" in refused["scoring_rule"]
    # Everything else may still change once scoring began (until the interviews start).
    assert frozen_changes_refused(exam, settings_of(exam, name="改名", reading_minutes=5)) == {}


def test_the_exam_snapshot_lists_what_changed(app):
    exam = gen_exam()
    before = exam_snapshot(exam)
    assert before["login_opens_at"] == exam.login_opens_at.isoformat()
    exam.reading_minutes = 3
    assert changed_settings(before, exam_snapshot(exam)) == ["reading_minutes"]
    assert changed_settings(before, before) == []


def test_entry_may_be_closed_only_while_it_is_open(app):
    now = utcnow()
    exam = gen_exam(
        login_opens_at=now - timedelta(minutes=5), entry_cutoff_at=now + timedelta(minutes=5)
    )
    assert entry_closable(exam, now)
    assert not entry_closable(exam, now + timedelta(minutes=5))  # the cut-off has come
    assert not entry_closable(exam, now - timedelta(minutes=6))  # login not open yet


# --- panels -----------------------------------------------------------------------------------


def test_panel_names_are_unique_within_an_exam(app):
    exam, other_exam = gen_exam(), gen_exam("另一场")
    panel = gen_panel(exam, "第一考场")
    assert panel_name_taken(exam, "第一考场")
    assert not panel_name_taken(exam, "第一考场", panel)  # keeping its own name
    assert not panel_name_taken(exam, "第二考场")
    assert not panel_name_taken(other_exam, "第一考场")


def test_an_examiner_sits_on_one_panel_per_exam(app):
    exam = gen_exam()
    first, second = gen_panel(exam, "第一考场"), gen_panel(exam, "第二考场")
    busy = gen_user("kg1", role=Role.EXAMINER, display_name="张考官")
    free = gen_user("kg2", role=Role.EXAMINER)
    helper = gen_user("zl1", role=Role.ASSISTANT)
    set_panel_staff(first, [busy], [helper], None)
    db.session.commit()
    assert examiners_on_other_panels(second, [busy.id, free.id]) == ["张考官（第一考场）"]
    assert examiners_on_other_panels(second, [free.id, helper.id]) == []  # an assistant may
    assert examiners_on_other_panels(first, [busy.id]) == []  # its own panel
    other_exam_panel = gen_panel(gen_exam("另一场"))
    assert examiners_on_other_panels(other_exam_panel, [busy.id]) == []


# --- roster: moving candidates between panels --------------------------------------------------


def test_only_candidates_not_yet_on_their_way_change_panel(app):
    exam = gen_exam()
    first, second = gen_panel(exam, "第一考场"), gen_panel(exam, "第二考场")
    invited = gen_candidate(exam, 1, panel=first)
    waiting = gen_candidate(exam, 2, panel=first, state=S.WAITING)
    staying = gen_candidate(exam, 3, panel=second, state=S.WAITING)
    moves, refused = sort_moves([(invited, second), (waiting, second), (staying, second)])
    assert moves == [(invited, second)]
    assert refused == [waiting]  # `staying` is already there: neither moved nor refused
    assert {S.INVITED, S.CONFIRMED, S.DECLINED} == MOVABLE_STATES


def test_a_move_is_audited(app):
    exam = gen_exam()
    panel = gen_panel(exam)
    candidate = gen_candidate(exam, 1)
    move_candidate(candidate, panel, "manual")
    assert commit_candidate_changes()
    (event,) = db.session.scalars(sa.select(AuditEvent).filter_by(kind="candidate.panel_assigned"))
    assert event.data["before"] == {"panel": None} and event.data["after"] == {"panel": panel.id}
    assert event.data["how"] == "manual" and candidate.panel_id == panel.id


def test_a_candidate_changed_meanwhile_saves_nothing(app):
    exam = gen_exam()
    panel = gen_panel(exam)
    candidate = gen_candidate(exam, 1)
    move_candidate(candidate, panel, "manual")
    with db.engine.begin() as other:  # the candidate's own request, on another connection
        other.execute(
            sa.update(Candidate)
            .where(Candidate.id == candidate.id)
            .values(state=S.CONFIRMED, version=Candidate.version + 1)
        )
    assert not commit_candidate_changes()
    db.session.expire_all()
    assert db.session.get(Candidate, candidate.id).panel_id is None


def test_distributing_spreads_the_waiting_candidates_over_the_panels(app):
    exam = gen_exam()
    panels = [gen_panel(exam, "第一考场"), gen_panel(exam, "第二考场")]
    already = gen_candidate(exam, 1, panel=panels[0], position="甲")
    on_their_way = gen_candidate(exam, 2, state=S.WAITING, position="甲")
    fresh = [gen_candidate(exam, n, position="甲") for n in (3, 4, 5)]
    moved = distribute_candidates(panels, exam_candidates(exam, for_update=True))
    assert moved == fresh  # the one already on a panel and the one on their way stay
    assert commit_candidate_changes()
    assert on_their_way.panel_id is None and already.panel_id == panels[0].id
    # The emptier panel first, then in turn: 2 each.
    assert [c.panel_id for c in fresh] == [panels[1].id, panels[0].id, panels[1].id]


def test_the_next_panel_is_the_least_loaded_then_the_next_in_turn(app):
    exam = gen_exam()
    panels = [gen_panel(exam, f"第{n}考场") for n in range(3)]
    ids = [p.id for p in panels]
    assert next_panel(panels, dict.fromkeys(ids, 0), last=0) == 1
    assert next_panel(panels, dict.fromkeys(ids, 0), last=2) == 0
    assert next_panel(panels, {ids[0]: 2, ids[1]: 3, ids[2]: 2}, last=0) == 2


# --- notices and question sets ----------------------------------------------------------------


def test_a_notice_may_be_deleted_until_a_candidate_read_it(app):
    exam = gen_exam()
    notice = Notice(exam_id=exam.id, title="须知", body="…", position=0)
    db.session.add(notice)
    db.session.commit()
    assert notice_deletable(notice)
    db.session.add(NoticeAck(notice_id=notice.id, candidate_id=gen_candidate(exam, 1).id))
    db.session.commit()
    assert not notice_deletable(notice)


def test_a_question_set_is_shown_once_a_candidate_it_applies_to_starts(app):
    exam = gen_exam()
    first, second = gen_panel(exam, "第一考场"), gen_panel(exam, "第二考场")
    for_first = QuestionSet(exam_id=exam.id, panel_id=first.id, title="一", body="…")
    for_all = QuestionSet(exam_id=exam.id, title="全部", body="…")
    db.session.add_all([for_first, for_all])
    db.session.commit()
    assert not questions_shown(for_first) and not questions_shown(for_all)

    gen_candidate(exam, 1, panel=second, state=S.INTERVIEWING, timer_started_at=utcnow())
    assert not questions_shown(for_first)  # another panel's candidate
    assert questions_shown(for_all)
