"""Candidate pages (Simplified Chinese): code entry and the way through the rooms.

One page, `/me`, shows whatever the candidate's state says (a template per stage), so a reload
at any moment lands on the right page. The page polls `/me/state` every 2 s: the poll settles
due time rules, answers 304 (before rendering anything) while nothing changed, sends the browser
to `/me` when the stage changed, and otherwise returns the small status fragment. Every action
is a POST that calls the journey; a refusal is a Chinese message, never a 500.

Modules: `entry` (code page, sign-in, rest-room code), `stages` (the stage page and the
candidate's moves), `poll` (the polled fragment), `help` (求助), `visibility` (疑似切屏), `faces` (人脸核验: the notice and the stills);
`pulse` (the shared "poll now" of a panel); `context` builds what the pages show, `access` holds the sign-in check and the refusal answer.
"""

# The views register themselves on the blueprint when imported.
from app.routes.candidate import (  # noqa: F401
    entry,
    faces,
    help,
    poll,
    pulse,
    stages,
    visibility,
)
from app.routes.candidate.blueprints import bp

__all__ = ["bp"]
