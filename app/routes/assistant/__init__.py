"""Assistant (面试助理) console: debug queue, help queue, rest room, violations.

One page per panel; its lists are fragments that poll every few seconds and answer 304 while
nothing changed (see app/day/consoles.py). Every button is a form that works without
JavaScript and, with htmx, swaps the fresh fragment in place; a refused move says why.

Modules: `console` (the page, the board and the moves), `debug` (my debug call, the ID photo),
`face_check` (人脸比对 beside the ID photo, 身份已核验 with a note),
`rest_room` (release, the rest-room call, call status), `help` (求助 queue), `violations`;
`waiting_room` (the waiting-room call, spot checks and call-backs); `scope` says which panels
and candidates are mine.
"""

# The views register themselves on the blueprint when imported.
from app.routes.assistant import (  # noqa: F401
    console,
    debug,
    face_check,
    help,
    observe,
    phone,
    rest_room,
    violations,
    waiting_room,
)
from app.routes.assistant.blueprints import bp

__all__ = ["bp"]
