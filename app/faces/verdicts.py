"""A comparison in one word, from the face count and the descriptor distance.

dlib's documented threshold: two descriptors closer than 0.6 are the same person (99.38% on the
LFW benchmark). Near it the measure is weak either way, so a band of ± FACE_DOUBT_MARGIN around
the threshold says 存疑 (look again) rather than pretending to know. Both are settings
(FACE_MATCH_THRESHOLD, FACE_DOUBT_MARGIN); the verdict is stored with the distance, so a changed
threshold never rewrites what staff saw.
"""

from enum import StrEnum

from flask import current_app
from flask_babel import lazy_gettext as _l

DEFAULT_THRESHOLD = 0.6
DEFAULT_MARGIN = 0.05


class Verdict(StrEnum):
    MATCH = "match"  # 一致
    DOUBT = "doubt"  # 存疑
    MISMATCH = "mismatch"  # 不一致
    NO_FACE = "no_face"  # 未检测到人脸
    MANY_FACES = "many_faces"  # 多张人脸
    # One face, nothing to compare it with (no ID photo asked for, or none with a face).
    NO_REFERENCE = "no_reference"
    FAILED = "failed"  # 未能比对: the job failed; the assistant decides by eye
    PENDING = "pending"  # not analysed yet


LABELS = {
    Verdict.MATCH: _l("Match"),
    Verdict.DOUBT: _l("Doubtful"),
    Verdict.MISMATCH: _l("No match"),
    Verdict.NO_FACE: _l("No face detected"),
    Verdict.MANY_FACES: _l("Several faces"),
    Verdict.NO_REFERENCE: _l("Nothing to compare with"),
    Verdict.FAILED: _l("Could not compare"),
    Verdict.PENDING: _l("Comparing…"),
}
# For the audit data and files, which stay Chinese whoever reads them.
CHINESE = {
    Verdict.MATCH: "一致",
    Verdict.DOUBT: "存疑",
    Verdict.MISMATCH: "不一致",
    Verdict.NO_FACE: "未检测到人脸",
    Verdict.MANY_FACES: "多张人脸",
    Verdict.NO_REFERENCE: "无比对照片",
    Verdict.FAILED: "未能比对",
    Verdict.PENDING: "比对中",
}
# How a console colours it (a CSS badge class).
TONE = {
    Verdict.MATCH: "ok",
    Verdict.DOUBT: "warn",
    Verdict.MISMATCH: "danger",
    Verdict.NO_FACE: "warn",
    Verdict.MANY_FACES: "danger",
    Verdict.NO_REFERENCE: "",
    Verdict.FAILED: "warn",
    Verdict.PENDING: "",
}


def thresholds() -> tuple[float, float]:
    config = current_app.config
    return (
        float(config.get("FACE_MATCH_THRESHOLD", DEFAULT_THRESHOLD)),
        float(config.get("FACE_DOUBT_MARGIN", DEFAULT_MARGIN)),
    )


def verdict_of(faces: int, distance: float | None, threshold: float, margin: float) -> Verdict:
    """The verdict of a still with `faces` faces at `distance` from the reference (None: no
    reference to compare with)."""
    if faces == 0:
        return Verdict.NO_FACE
    if faces > 1:
        return Verdict.MANY_FACES
    if distance is None:
        return Verdict.NO_REFERENCE
    if distance < threshold - margin:
        return Verdict.MATCH
    if distance < threshold + margin:
        return Verdict.DOUBT
    return Verdict.MISMATCH
