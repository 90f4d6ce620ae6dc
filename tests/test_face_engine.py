"""The face comparison itself (app/faces/engine.py, verdicts.py) on real photographs: the same
person across scale, light and crop matches; an empty frame, two faces and another person are
told apart. dlib's models load once for the whole run."""

import time

import pytest

from app.faces import engine
from app.faces.verdicts import DEFAULT_MARGIN, DEFAULT_THRESHOLD, Verdict, verdict_of
from tests import face_photos as photos


def compare(reference: bytes, still: bytes) -> tuple[Verdict, float | None, engine.Analysis]:
    ref = engine.analyse(reference)
    assert ref.faces == 1 and ref.descriptor is not None
    seen = engine.analyse(still)
    distance = (
        engine.distance(ref.descriptor, seen.descriptor) if seen.descriptor is not None else None
    )
    return verdict_of(seen.faces, distance, DEFAULT_THRESHOLD, DEFAULT_MARGIN), distance, seen


@pytest.mark.parametrize(
    "variant",
    [
        pytest.param(lambda: photos.astronaut_still(scale=0.5), id="half-size"),
        pytest.param(lambda: photos.astronaut_still(scale=1.25), id="larger"),
        pytest.param(lambda: photos.astronaut_still(light=0.55), id="darker"),
        pytest.param(lambda: photos.astronaut_still(light=1.4), id="brighter"),
        pytest.param(photos.astronaut_face_crop, id="cropped"),
        pytest.param(lambda: photos.jpeg(photos.camera_frame(photos.astronaut())), id="framed"),
    ],
)
def test_the_same_person_across_scale_light_and_crop_matches(variant):
    verdict, distance, seen = compare(photos.astronaut_still(), variant())
    assert seen.faces == 1
    assert verdict == Verdict.MATCH, distance
    assert distance is not None and distance < DEFAULT_THRESHOLD - DEFAULT_MARGIN


def test_an_empty_frame_has_no_face():
    verdict, distance, seen = compare(photos.astronaut_still(), photos.empty_frame())
    assert (verdict, distance, seen.faces) == (Verdict.NO_FACE, None, 0)


def test_two_people_side_by_side_are_several_faces():
    verdict, distance, seen = compare(photos.astronaut_still(), photos.two_faces())
    assert (verdict, seen.faces) == (Verdict.MANY_FACES, 2)
    assert distance is None


def test_a_different_person_does_not_match():
    verdict, distance, _ = compare(photos.astronaut_still(), photos.other_person())
    assert verdict == Verdict.MISMATCH
    assert distance is not None and distance >= DEFAULT_THRESHOLD + DEFAULT_MARGIN


def test_the_verdict_bands_around_the_threshold():
    assert verdict_of(1, 0.40, 0.6, 0.05) == Verdict.MATCH
    assert verdict_of(1, 0.55, 0.6, 0.05) == Verdict.DOUBT
    assert verdict_of(1, 0.649, 0.6, 0.05) == Verdict.DOUBT
    assert verdict_of(1, 0.65, 0.6, 0.05) == Verdict.MISMATCH
    assert verdict_of(1, None, 0.6, 0.05) == Verdict.NO_REFERENCE
    assert verdict_of(0, None, 0.6, 0.05) == Verdict.NO_FACE
    assert verdict_of(3, None, 0.6, 0.05) == Verdict.MANY_FACES


def test_bytes_that_are_not_an_image_are_refused_before_any_work():
    with pytest.raises(engine.NotAnImage):
        engine.analyse(b"\xff\xd8\xff\xe0 not really a jpeg")


def test_an_analysis_keeps_how_long_it_took_and_the_models_load_once():
    engine.models()
    started = time.perf_counter()
    seen = engine.analyse(photos.astronaut_still())
    assert seen.ms >= 1 and seen.ms <= (time.perf_counter() - started) * 1000 + 1
    assert engine.models() is engine.models()
    assert seen.descriptor is not None and seen.descriptor.shape == (128,)
    assert engine.from_bytes(engine.to_bytes(seen.descriptor)).tolist() == pytest.approx(
        seen.descriptor.tolist()
    )
