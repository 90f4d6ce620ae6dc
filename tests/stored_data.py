"""A finished exam with stored personal data on disk: interview recordings, a debug-room
recording, ID photos, submitted and confirmed scores and their audit rows (the backup and
retention tests' scene)."""

import hashlib
from datetime import timedelta

from app import db
from app.day.id_photo import photo_root, store_photo
from app.models import Candidate, Recording, RecordingStatus
from app.models.candidate import CandidateState as S
from app.recordings.storage import recordings_dir
from app.scoring.service import confirm, submit
from app.timeutil import utcnow
from tests.test_scoring import Panel5

JPG = b"\xff\xd8\xff\xe0" + b"photo" * 20


class StoredData:
    """Panel5's candidate scored by five examiners and confirmed, a second candidate of the same
    panel, an exam whose login closed `closed_days_ago` days ago."""

    def __init__(self, closed_days_ago: int = 40):
        p = Panel5()
        self.p = p
        self.exam = p.exam
        self.exam.login_closes_at = utcnow() - timedelta(days=closed_days_ago)
        self.exam.login_opens_at = self.exam.starts_at = self.exam.login_closes_at - timedelta(
            hours=8
        )
        self.first = p.candidate
        self.second = Candidate(
            exam_id=self.exam.id,
            panel_id=p.panel.id,
            name="李四",
            id_number="110105199102020026",
            phone="13800138001",
            position="综合管理岗",
            code="123457",
            state=S.RELEASED,
            lot_number=8,
        )
        db.session.add(self.second)
        db.session.commit()
        for examiner in p.examiners:
            submit(p.candidate, examiner, p.form(16, 15, 12, 12, 16, 8))
        confirm(p.candidate, p.chief)
        self.photos = {}
        for c in (self.first, self.second):
            c.id_photo_path = store_photo(photo_root(), c.id, "jpg", JPG + str(c.id).encode())
            self.photos[c.id] = photo_root() / c.id_photo_path
        db.session.commit()
        self.interview = self.recording("ir-a", "interview", b"interview room video")
        self.debug = self.recording(
            "debug-room-1", "debug", b"debug call video", candidate=self.second
        )

    def recording(self, room, kind, data: bytes, candidate=None, status=RecordingStatus.STORED):
        folder = f"session-{room}-{len(data)}"
        recording = Recording(
            room=room,
            session_folder=folder,
            file_name="a.mp4",
            exam_id=self.exam.id,
            panel_id=self.p.panel.id,
            candidate_id=(candidate or self.first).id,
            room_kind=kind,
            expected_size=len(data),
            expected_sha256=hashlib.sha256(data).hexdigest(),
            bytes_pulled=len(data),
            status=status,
            stored_path=f"{folder}/a.mp4" if status == RecordingStatus.STORED else None,
        )
        db.session.add(recording)
        db.session.commit()
        if status == RecordingStatus.STORED:
            path = recordings_dir() / recording.stored_path
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        return recording

    def file_of(self, recording: Recording):
        return recordings_dir() / f"{recording.session_folder}/{recording.file_name}"
