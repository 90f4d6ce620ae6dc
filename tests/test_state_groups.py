"""The state groups (app/models/candidate.py) say what they mean, and the tables keyed by them
cover exactly their group."""

from app.day.poll import STAGE_OF_STATE
from app.models.candidate import (
    BEFORE_DEBUG,
    FINAL,
    IN_DEBUG,
    IN_INTERVIEW,
    IN_QUEUE_OR_ROOM,
    INSIDE,
    INTERVIEWED,
    MOVABLE,
    NOT_FINAL,
    OUT,
    PRE_ENTRY,
    RINGING,
    SCORABLE,
    STILL_IN_AFTER_CUTOFF,
    STILL_TO_INTERVIEW,
)
from app.models.candidate import CandidateState as S
from app.scoring.results import MARKED


def test_the_way_splits_into_before_inside_and_over():
    assert set(S) == PRE_ENTRY | INSIDE | FINAL
    assert not PRE_ENTRY & INSIDE and not INSIDE & FINAL and not PRE_ENTRY & FINAL
    assert set(S) - FINAL == NOT_FINAL and S.RELEASED in FINAL - OUT


def test_narrower_groups_sit_inside_the_wider_ones():
    assert BEFORE_DEBUG < MOVABLE and {S.DECLINED} == MOVABLE - BEFORE_DEBUG
    assert BEFORE_DEBUG < PRE_ENTRY and PRE_ENTRY == BEFORE_DEBUG | IN_DEBUG
    assert not BEFORE_DEBUG & IN_DEBUG and S.DEBUGGED in IN_DEBUG
    assert STILL_IN_AFTER_CUTOFF == IN_DEBUG | IN_QUEUE_OR_ROOM < STILL_TO_INTERVIEW
    assert {S.DEBUG_CALLED, S.INTERVIEW_CALLED} == RINGING
    assert IN_INTERVIEW < IN_QUEUE_OR_ROOM < INSIDE
    assert STILL_TO_INTERVIEW == PRE_ENTRY | IN_QUEUE_OR_ROOM
    assert INTERVIEWED < SCORABLE and {S.INTERVIEWING} == SCORABLE - INTERVIEWED
    assert not SCORABLE & OUT


def test_tables_keyed_by_a_group_cover_exactly_that_group():
    assert set(MARKED) == OUT  # the results' wording for those without a score
    assert set(STAGE_OF_STATE) == set(S)
