"""A recording made by a real browser goes through the real pipeline and plays and seeks on the
recordings page.

There is no ffmpeg on the test machines, so the browser makes the video: it records its fake
camera and microphone for a few seconds with MediaRecorder (MP4 when Chromium offers it, else
WebM). From there on everything is production code: the file and a `metadata.json` lie in a
Jibri-like session folder served over HTTP on loopback, `jitsi/jibri/finalize.sh` signs and posts
the notice to gunicorn's /hooks/jibri, `flask --app wsgi worker --burst` (a separate process with
the server's settings) pulls, verifies and stores the file, and HR plays it in Chromium.

What "plays" means here, checked on the page's own <video>:
- metadata loads (readyState >= HAVE_METADATA) with the recorded frame size and a duration > 0
  (MediaRecorder writes no duration: Chromium may first report an estimate or Infinity, so the
  real length is checked at the end of playback instead);
- the whole file is seekable, which the player only offers when the server answers ranges:
  a seek to a point inside the recording fires `seeked` and lands there, and the server answered
  at least one request for the file with 206 and a Content-Range;
- played from there, the clock runs to the end of the recording (about its recorded length);
- the download link answers 200 with exactly the bytes the camera produced (SHA-256).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import uuid
from zoneinfo import ZoneInfo

from flask import current_app
from playwright.sync_api import expect
from sqlalchemy import select

from app import db
from app.models import Candidate, Recording, RecordingStatus
from app.recordings.clock import jibri_timezone
from app.timeutil import utcnow
from tests.conftest import TEST_REDIS_URL
from tests.e2e.actions import staff_sign_in, start_interview, walk_to_waiting
from tests.e2e.conftest import (
    E2E_SECRET_KEY,
    JIBRI_WEBHOOK_SECRET,
    JITSI_APP_ID,
    JITSI_APP_SECRET,
    JITSI_DOMAIN,
    ROOT,
    fresh,
    shot,
)
from tests.e2e.world import move_entry_cutoff_to_now, seed
from tests.test_recordings import FileServer

RECORD_MS = 3000
FINALIZE = ROOT / "jitsi" / "jibri" / "finalize.sh"

# Records the fake camera and microphone; returns the container type and the bytes (base64).
_RECORD = """async ({ms}) => {
  const type = MediaRecorder.isTypeSupported('video/mp4') ? 'video/mp4' : 'video/webm';
  const stream = await navigator.mediaDevices.getUserMedia(
    {video: {width: 640, height: 360}, audio: true});
  const recorder = new MediaRecorder(stream, {mimeType: type});
  const chunks = [];
  recorder.ondataavailable = (event) => { if (event.data.size) chunks.push(event.data); };
  const stopped = new Promise((resolve) => { recorder.onstop = resolve; });
  recorder.start(500);
  await new Promise((resolve) => setTimeout(resolve, ms));
  recorder.stop();
  await stopped;
  stream.getTracks().forEach((track) => track.stop());
  const bytes = new Uint8Array(await new Blob(chunks).arrayBuffer());
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return {mime: recorder.mimeType, data: btoa(text)};
}"""

# What the page's player does with the file: metadata, a seek inside it, then play to the end.
_PLAY = """async ({seekTo}) => {
  const video = document.querySelector('video.recording-player');
  const until = (name, ms) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${name} within ${ms} ms; readyState=${video.readyState}`
      + ` error=${video.error && video.error.code} ${video.error && video.error.message}`)), ms);
    video.addEventListener(name, () => { clearTimeout(timer); resolve(); }, {once: true});
  });
  if (video.readyState < HTMLMediaElement.HAVE_METADATA) await until('loadedmetadata', 10000);
  const ranges = (r) => Array.from({length: r.length}, (_, i) => [r.start(i), r.end(i)]);
  const atMetadata = {readyState: video.readyState, duration: String(video.duration),
                      durationPositive: video.duration > 0, width: video.videoWidth,
                      height: video.videoHeight, seekable: ranges(video.seekable),
                      error: video.error && video.error.message};
  const seeked = until('seeked', 10000);
  video.currentTime = seekTo;
  await seeked;
  const afterSeek = {currentTime: video.currentTime, readyState: video.readyState};
  video.muted = true;  // headless: nothing to hear, and muted playback needs no user gesture
  const ended = until('ended', 20000);
  await video.play();
  await ended;
  return {atMetadata, afterSeek,
          atEnd: {currentTime: video.currentTime, duration: String(video.duration),
                  played: ranges(video.played), error: video.error && video.error.message}};
}"""


def _record_camera(e2e) -> tuple[str, bytes]:
    # 127.0.0.1 is a secure context, so getUserMedia works on any page of the app.
    camera = e2e.new_page("camera")
    camera.goto("/staff/login")
    result = camera.evaluate(_RECORD, {"ms": RECORD_MS})
    camera.context.close()
    return result["mime"], base64.b64decode(result["data"])


def _worker_env(database_uri: str, live_server, jibri: FileServer) -> dict:
    """The server's settings (same database, Redis and recordings folder) plus the Jibri host."""
    return {
        **os.environ,
        "DATABASE_URL": database_uri,
        "REDIS_URL": TEST_REDIS_URL,
        "SECRET_KEY": E2E_SECRET_KEY,
        "JITSI_DOMAIN": JITSI_DOMAIN,
        "JITSI_APP_ID": JITSI_APP_ID,
        "JITSI_APP_SECRET": JITSI_APP_SECRET,
        "JIBRI_WEBHOOK_SECRET": JIBRI_WEBHOOK_SECRET,
        "INSTANCE_DIR": str(live_server.instance),
        "RECORDINGS_DIR": str(live_server.instance / "recordings"),
        "JIBRI_RECORDINGS_URL": jibri.url,
    }


def test_a_recording_from_the_browser_is_pulled_then_plays_and_seeks(
    e2e, live_server, database_uri, tmp_path
):
    # A candidate in the interview room, so the file is linked to them as in production.
    world = seed(candidates=1)
    candidate = world.candidates[0]
    walk_to_waiting(candidate, world.assistant)
    move_entry_cutoff_to_now(world.exam.id)
    start_interview(fresh(Candidate, candidate.id), world.chief, seconds_left=590, minutes=10)
    room = world.panel.interview_room

    mime, video = _record_camera(e2e)
    extension = "mp4" if mime.startswith("video/mp4") else "webm"
    assert len(video) > 10_000, f"MediaRecorder gave {len(video)} bytes of {mime}"

    # Jibri's layout: <recordings>/<session id>/<room>_<yyyy-MM-dd-HH-mm-ss>.mp4 + metadata.json.
    jibri = FileServer(tmp_path / "jibri")
    try:
        session = tmp_path / "jibri" / uuid.uuid4().hex
        session.mkdir(parents=True)
        # Jibri stamps the name in its host's local time, which the app reads as JIBRI_TIMEZONE.
        stamp = utcnow().astimezone(ZoneInfo(jibri_timezone(current_app.config)))
        name = f"{room}_{stamp:%Y-%m-%d-%H-%M-%S}.{extension}"
        (session / name).write_bytes(video)
        (session / "metadata.json").write_text(
            json.dumps({"meeting_url": f"https://{JITSI_DOMAIN}/{room}", "participants": []})
        )

        finalize = subprocess.run(
            ["bash", str(FINALIZE), str(session)],
            capture_output=True,
            text=True,
            timeout=60,
            env={
                **os.environ,
                "INTERVIEW_APP_URL": live_server.base_url,
                "JIBRI_WEBHOOK_SECRET": JIBRI_WEBHOOK_SECRET,
                "FINALIZE_ENV_FILE": str(tmp_path / "no-such-file"),
                "FINALIZE_ATTEMPTS": "1",
            },
        )
        assert finalize.returncode == 0, finalize.stderr

        worker = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--burst"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            env=_worker_env(database_uri, live_server, jibri),
        )
        assert worker.returncode == 0, worker.stdout + worker.stderr
    finally:
        jibri.stop()

    db.session.rollback()
    recording = fresh(
        Recording, db.session.scalar(select(Recording.id).where(Recording.file_name == name))
    )
    assert (recording.status, recording.error) == (RecordingStatus.STORED, None), recording.error
    assert (recording.exam_id, recording.panel_id, recording.candidate_id, recording.room_kind) == (
        world.exam.id,
        world.panel.id,
        candidate.id,
        "interview",
    )
    digest = hashlib.sha256(video).hexdigest()
    assert recording.expected_sha256 == digest
    stored = live_server.instance / "recordings" / recording.stored_path
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == digest

    hr = e2e.new_page("hr")
    file_url = f"{live_server.base_url}/staff/recordings/{recording.id}/file"
    answers = []
    hr.on(
        "response",
        lambda response: (
            response.url == file_url
            and answers.append(
                (
                    response.status,
                    response.request.headers.get("range"),
                    response.headers.get("content-range"),
                )
            )
        ),
    )
    staff_sign_in(hr, "hr")
    hr.goto("/staff/recordings/")
    hr.get_by_role("link", name=world.exam.name).click()
    row = hr.get_by_role("row").filter(has_text=name)
    expect(row).to_contain_text(candidate.name)
    expect(row).to_contain_text("已保存")
    row.get_by_role("link", name="播放").click()
    player = hr.locator("video.recording-player")
    expect(player).to_be_visible()

    seek_to = RECORD_MS / 1000 / 2
    playback = hr.evaluate(_PLAY, {"seekTo": seek_to})
    meta, after_seek, at_end = playback["atMetadata"], playback["afterSeek"], playback["atEnd"]
    assert meta["readyState"] >= 1 and meta["durationPositive"], playback  # HAVE_METADATA
    assert (meta["width"], meta["height"]) == (640, 360), playback
    assert meta["error"] is None and at_end["error"] is None, playback
    # Seekable from the start: the player only offers that when the server answers ranges.
    assert meta["seekable"] and meta["seekable"][0][0] == 0 and meta["seekable"][-1][1] > 0, (
        playback
    )
    assert abs(after_seek["currentTime"] - seek_to) < 0.5, playback
    assert after_seek["readyState"] >= 2, playback  # HAVE_CURRENT_DATA: a frame at the new spot
    # Played from the middle to the end: the clock ran through the rest of the recording.
    recorded = RECORD_MS / 1000
    assert recorded - 0.8 < at_end["currentTime"] < recorded + 0.8, playback
    assert float(at_end["duration"]) == at_end["currentTime"], playback
    # The player fetched the file with ranges (Chromium asks `bytes=0-` first; a file this small
    # then arrives in that one answer, so a seek needs no second request). A range from the middle,
    # asked by the same signed-in browser, gets exactly those bytes.
    middle = hr.evaluate(
        """async ({url, first, last}) => {
      const response = await fetch(url, {headers: {Range: `bytes=${first}-${last}`}});
      const bytes = new Uint8Array(await response.arrayBuffer());
      return {status: response.status, range: response.headers.get('Content-Range'),
              bytes: Array.from(bytes)};
    }""",
        {"url": file_url, "first": 1000, "last": 1999},
    )
    assert (middle["status"], middle["range"]) == (206, f"bytes 1000-1999/{len(video)}"), middle[
        "range"
    ]
    assert bytes(middle["bytes"]) == video[1000:2000]
    partial = [a for a in answers if a[0] == 206]
    assert any(a[1] and a[1].startswith("bytes=0-") for a in partial), answers
    assert partial and all(
        a[2] and a[2].startswith("bytes ") and a[2].endswith(f"/{len(video)}") for a in partial
    ), answers
    shot(hr, "staff-recordings-playback")

    download = hr.get_by_role("link", name="下载")
    response = hr.context.request.get(live_server.base_url + download.get_attribute("href"))
    assert response.status == 200, response.status
    assert "attachment" in response.headers.get("content-disposition", ""), response.headers
    assert hashlib.sha256(response.body()).hexdigest() == digest
    response.dispose()
