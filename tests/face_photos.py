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


def write_y4m(image: Image.Image, path, frames: int = 5, size=(640, 480)) -> None:
    """A Y4M clip of `image` for Chromium's --use-file-for-fake-video-capture (it loops it):
    the fake camera then shows a real face instead of its green test pattern."""
    width, height = size
    frame = image.convert("RGB").resize(size)
    y, cb, cr = frame.convert("YCbCr").split()
    half = (width // 2, height // 2)
    planes = y.tobytes() + cb.resize(half).tobytes() + cr.resize(half).tobytes()
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F5:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(b"FRAME\n" + planes)


def webcam_scene() -> Image.Image:
    """The astronaut as a candidate in front of her webcam (640x480)."""
    head = astronaut().crop((90, 0, 370, 330))  # head and shoulders, as a webcam frames her
    return camera_frame(head, size=(640, 480), face_height=480, at=(116, 0))
