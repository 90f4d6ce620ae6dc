"""Real photographs of people for the face-check tests, from packages that ship them:

- scikit-image's `data.astronaut()`: Eileen Collins, NASA portrait (public domain);
- matplotlib's sample `grace_hopper.jpg`: Rear Admiral Grace Hopper, US Navy portrait (public
  domain).

Each helper gives JPEG bytes as a candidate's page would send them (small, quality 80).
"""

import io
from functools import cache

from PIL import Image, ImageEnhance


def jpeg(image: Image.Image, quality: int = 80) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=quality)
    return out.getvalue()


@cache
def astronaut() -> Image.Image:
    from skimage import data

    return Image.fromarray(data.astronaut())


@cache
def grace_hopper() -> Image.Image:
    from matplotlib import cbook

    with Image.open(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)) as image:
        return image.convert("RGB")


def camera_frame(face: Image.Image, size=(480, 360), face_height=300, at=(90, 30)) -> Image.Image:
    """The photo as a webcam would frame it: the face pasted on a plain room-coloured frame."""
    frame = Image.new("RGB", size, (96, 104, 112))
    scale = face_height / face.height
    frame.paste(face.resize((round(face.width * scale), face_height)), at)
    return frame


def astronaut_still(scale: float = 1.0, light: float = 1.0) -> bytes:
    image = astronaut().resize((round(512 * scale), round(512 * scale)))
    return jpeg(ImageEnhance.Brightness(image).enhance(light))


def astronaut_face_crop() -> bytes:
    # Head and shoulders only, as a closer camera would see her.
    return jpeg(astronaut().crop((110, 0, 330, 260)))


def empty_frame() -> bytes:
    return jpeg(Image.new("RGB", (640, 480), (96, 104, 112)))


def two_faces() -> bytes:
    """The candidate and someone else behind her, as a 480x360 still."""
    frame = Image.new("RGB", (480, 360), (96, 104, 112))
    frame.paste(astronaut().resize((220, 220)), (10, 70))
    frame.paste(grace_hopper().resize((150, 176)), (290, 90))
    return jpeg(frame)


def other_person() -> bytes:
    return jpeg(grace_hopper().resize((342, 400)))
