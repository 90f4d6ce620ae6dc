"""The ID photo rules (app/day/id_photo.py), called directly: when, what, and how it is kept."""

from types import SimpleNamespace

import pytest

from app.day.id_photo import may_upload, photo_type, store_photo
from app.models.candidate import CandidateState as S
from app.refusals import Refused

JPG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def candidate(state=S.CONFIRMED, requires_id_photo=True):
    return SimpleNamespace(state=state, exam=SimpleNamespace(requires_id_photo=requires_id_photo))


def refusal_code(action) -> str:
    with pytest.raises(Refused) as refused:
        action()
    return refused.value.code


@pytest.mark.parametrize("state", [S.INVITED, S.CONFIRMED])
def test_a_photo_may_be_uploaded_before_the_debug_room(state):
    may_upload(candidate(state))  # no refusal


@pytest.mark.parametrize("state", [S.DEBUG_WAITING, S.DEBUGGING, S.WAITING, S.RELEASED])
def test_once_in_the_debug_room_the_photo_is_fixed(state):
    assert refusal_code(lambda: may_upload(candidate(state))) == "id_photo_too_late"


def test_an_exam_without_id_photos_takes_none():
    assert (
        refusal_code(lambda: may_upload(candidate(requires_id_photo=False)))
        == "id_photo_not_needed"
    )


def test_the_type_comes_from_the_bytes_and_the_size_is_capped():
    assert photo_type(JPG) == "jpg" and photo_type(PNG) == "png"
    assert refusal_code(lambda: photo_type(b"GIF89a" + b"\x00" * 32)) == "id_photo_wrong_type"
    assert refusal_code(lambda: photo_type(b"")) == "id_photo_no_file"
    assert photo_type(PNG, max_bytes=len(PNG)) == "png"
    assert (
        refusal_code(lambda: photo_type(PNG + b"\x00", max_bytes=len(PNG))) == "id_photo_too_large"
    )


def test_a_new_photo_replaces_the_old_one_of_the_other_type(tmp_path):
    first = store_photo(tmp_path, 7, "jpg", JPG)
    assert first == "uploads/id_photos/7.jpg" and (tmp_path / first).read_bytes() == JPG
    second = store_photo(tmp_path, 7, "png", PNG)
    assert (tmp_path / second).read_bytes() == PNG
    assert not (tmp_path / first).exists()
    assert not list((tmp_path / "uploads/id_photos").glob("*.part"))
