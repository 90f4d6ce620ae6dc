"""Write a Y4M clip of a real face for Chromium's fake camera (the face-check demo and tests).

    .venv/bin/python scripts/fake_camera.py /tmp/astronaut.y4m
    chromium --use-fake-device-for-media-stream --use-fake-ui-for-media-stream \
             --use-file-for-fake-video-capture=/tmp/astronaut.y4m http://127.0.0.1:5000/

The photo is scikit-image's astronaut (Eileen Collins, NASA, public domain), a development
dependency (requirements-dev.txt). `--empty` writes a frame with no face (人像离屏).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image

from tests import face_photos


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)  # noqa: T201
        return 0 if argv else 2
    empty = "--empty" in argv
    target = Path(next(a for a in argv if not a.startswith("--")))
    scene = Image.new("RGB", (640, 480), (96, 104, 112)) if empty else face_photos.webcam_scene()
    face_photos.write_y4m(scene, target)
    print(f"wrote {target}")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
