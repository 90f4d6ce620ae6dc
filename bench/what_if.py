"""Measured "what ifs" for the candidate poll: `BENCH_WHAT_IF=<name> make bench`.

A proposed change is measured on the running app before anyone edits the app's files:

- `no-cookie-refresh`: `SESSION_REFRESH_EACH_REQUEST = False`. Flask re-signs the permanent
  session cookie and sends it again on every response, 304 polls included; without it the
  12-hour session lifetime counts from sign-in instead of from the last request.

(The first what-if, `one-query` — exam and panel joined to the candidate, the queue version read
from that row — measured 3 → 1 statements per poll and was then adopted in
app/candidate_session.py and app/routes/candidate.py.)
"""

from flask import Flask

WHAT_IFS = {
    "no-cookie-refresh": {"SESSION_REFRESH_EACH_REQUEST": False},
}


def apply(app: Flask, name: str) -> None:
    if name not in WHAT_IFS:
        raise SystemExit(f"BENCH_WHAT_IF must be one of {sorted(WHAT_IFS)}")
    app.config.update(WHAT_IFS[name])
