"""A measured "what if" for the candidate poll, for `BENCH_WHAT_IF=one-query make bench` only.

The poll today sends three statements: the candidate (load_candidate), its exam (lazy, on
`candidate.exam` in settle) and, while waiting, its panel's queue version. This swaps in the two
changes the benchmark recommends, so that their effect is measured rather than guessed:

1. app/candidate_session.py `load_candidate`: load the exam and panel with the candidate
   (`joinedload`), one statement instead of two;
2. app/routes/candidate.py `poll_etag`: read `candidate.panel.queue_version` from the row already
   loaded in this request instead of a second SELECT (same freshness: one request, one session).

It replaces the functions in the running app only; the app's own files are untouched.
"""

from flask import Flask, g, session
from sqlalchemy.orm import joinedload

WHAT_IFS = ("one-query",)


def apply(app: Flask, name: str) -> None:
    if name not in WHAT_IFS:
        raise SystemExit(f"BENCH_WHAT_IF must be one of {WHAT_IFS}")
    from app import candidate_session, db
    from app.models import Candidate
    from app.routes import candidate as candidate_routes

    def load_candidate_joined() -> None:
        g.candidate = None
        g.candidate_taken_over = False
        candidate_id = session.get("candidate_id")
        if candidate_id is None:
            return
        candidate = db.session.get(
            Candidate, candidate_id,
            options=[joinedload(Candidate.exam), joinedload(Candidate.panel)],
        )
        if candidate is None:
            candidate_session.sign_out()
            return
        if candidate.session_nonce != session.get("candidate_nonce"):
            g.candidate_taken_over = True
            candidate_session.sign_out()
            return
        g.candidate = candidate

    original_etag = candidate_routes.poll_etag

    def poll_etag_from_loaded_panel(candidate, stage, now):
        if stage != "waiting" or candidate.panel is None:
            return original_etag(candidate, stage, now)
        # The same parts as poll_etag, with the queue version from the joined panel row.
        parts = [candidate_routes.candidate_etag(candidate), stage, f"q{candidate.panel.queue_version}"]
        if candidate.exam.requires_second_camera:
            connected = candidate_routes.journey.second_camera_connected(candidate, now)
            parts.append("2" if connected else "1")
        return ".".join(parts)

    hooks = app.before_request_funcs[None]
    hooks[hooks.index(candidate_session.load_candidate)] = load_candidate_joined
    candidate_routes.poll_etag = poll_etag_from_loaded_panel
