"""The exam the browser tests walk through: `World.for_browser` in tests/factories.py (`seed`
here), seeded with the app's own functions.

One formal exam whose login window is open now, one panel with an assistant, a chief examiner and
four more examiners, an HR officer, two notices, a question set, a score sheet and a few
candidates. The server's real clock runs the test: windows are placed around `utcnow()`, and the
countdown uses a short `minutes_per_candidate`.
"""

from __future__ import annotations

from tests.factories import (  # noqa: F401  (what the browser tests import from here)
    ID_NUMBERS,
    NOTICES,
    PASSWORD,
    QUESTIONS,
    SHEET,
    World,
    move_entry_cutoff_to_now,
)

seed = World.for_browser
