"""dlib's face detector and face descriptors, loaded once per process.

The models are the files of the face_recognition_models package (nothing is downloaded at run
time): the 5-point shape predictor (enough to align a face for the descriptor) and the ResNet
face recognition model, whose 128-d descriptors of one person lie within 0.6 of each other in
dlib's own evaluation (the threshold in verdicts.py).

`flask worker` loads the models before RQ forks its work horses (app/jobs/worker.py), so each
job inherits them instead of spending half a second reading 30 MB again.
"""

from __future__ import annotations

import io
import threading
import time
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

# A still is analysed at most this wide/high (the page sends 480x360), with the image doubled
# once for the detector (UPSAMPLE): faces down to about 40 pixels are found, so a second person
# further back in the room is seen too. Larger images only cost time.
MAX_SIDE = 480
UPSAMPLE = 1
# A detection must score at least this much: the HOG detector's own cut (0) lets through
# patterned clothing (the astronaut's suit patches score about 0.1), real faces score ~0.6+.
MIN_DETECTION_SCORE = 0.3
# Decoded images larger than this many pixels are refused before any work (a decompression
# bomb sent as a small JPEG).
MAX_PIXELS = 4096 * 4096


class NotAnImage(ValueError):
    """The bytes do not decode as an image."""


@dataclass(frozen=True)
class Analysis:
    faces: int
    # The descriptor of the one face, or None when there are none or several.
    descriptor: np.ndarray | None
    ms: int


class _Models:
    def __init__(self) -> None:
        import dlib
        import face_recognition_models as files

        self.detector = dlib.get_frontal_face_detector()
        self.shapes = dlib.shape_predictor(files.pose_predictor_five_point_model_location())
        self.encoder = dlib.face_recognition_model_v1(files.face_recognition_model_location())


_models: _Models | None = None
_lock = threading.Lock()


def models() -> _Models:
    """The models of this process (loaded on first use; a forked child inherits them)."""
    global _models
    if _models is None:
        with _lock:
            if _models is None:
                _models = _Models()
    return _models


def decode(data: bytes) -> Image.Image:
    """The image as RGB, upright (EXIF orientation applied), at most MAX_SIDE on its long side."""
    try:
        with Image.open(io.BytesIO(data)) as opened:
            if opened.width * opened.height > MAX_PIXELS:
                raise NotAnImage("too many pixels")
            opened.load()
            image = ImageOps.exif_transpose(opened).convert("RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise NotAnImage(str(exc)) from None
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    return image


def analyse(data: bytes) -> Analysis:
    """Faces in the image and, for exactly one, its descriptor."""
    m = models()  # loaded before the clock starts: the time kept is the analysis's own
    started = time.perf_counter()
    pixels = np.asarray(decode(data))
    faces = _detect(m, pixels, UPSAMPLE)
    descriptor = None
    if len(faces) == 1:
        shape = m.shapes(pixels, faces[0])
        descriptor = np.asarray(m.encoder.compute_face_descriptor(pixels, shape), dtype=np.float32)
    return Analysis(len(faces), descriptor, round((time.perf_counter() - started) * 1000))


def _detect(m: _Models, pixels: np.ndarray, upsample: int) -> list:
    rects, scores, _ = m.detector.run(pixels, upsample, 0.0)
    return [rect for rect, score in zip(rects, scores, strict=True) if score >= MIN_DETECTION_SCORE]


def distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(np.asarray(a, dtype=np.float32) - np.asarray(b, dtype=np.float32)))


def to_bytes(descriptor: np.ndarray) -> bytes:
    return np.asarray(descriptor, dtype="<f4").tobytes()


def from_bytes(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype="<f4")
