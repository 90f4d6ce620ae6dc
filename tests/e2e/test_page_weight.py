"""What a candidate's first visit costs on the wire (issue 20, deliverable 4): the document and
every file it loads, with an empty cache, in Chromium, at most 40 kB per candidate page.

Counted: the bytes Chromium received for each request the page load made on the app's own host
(headers and body as sent, so compressed bytes where compressed). Not counted: the page's htmx
polls and beacons after it loaded (they are not the first visit's weight, and a 304 is some
hundred bytes), and the Jitsi IFrame API script in the waiting room, which comes from the Jitsi
server, not from this app.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import urlsplit

from app import db
from app.journey import Actor, perform
from app.models import Candidate
from app.timeutil import utcnow
from tests.e2e.actions import enter_code, read_all_notices, wait_for_stage
from tests.e2e.conftest import fresh
from tests.e2e.world import seed

BUDGET = 40_000  # bytes, per page
LOADED_BY_THE_PAGE = {"document", "stylesheet", "script", "image", "font", "media", "other"}


class Weigher:
    """Records what one page loads, from the navigation to its load event, cache disabled."""

    def __init__(self, page, netloc: str):
        self.page = page
        self.netloc = netloc
        self.finished: list = []
        cdp = page.context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        page.on("requestfinished", lambda request: self.finished.append(request))

    def weigh(self, load) -> dict[str, int]:
        """Bytes per URL path of what `load()` (a navigation) brought from the app."""
        self.finished.clear()
        load()
        self.page.wait_for_load_state("load")
        self.page.wait_for_timeout(300)  # the last `requestfinished` events arrive
        weights: dict[str, int] = {}
        for request in list(self.finished):
            parts = urlsplit(request.url)
            if parts.netloc != self.netloc or request.resource_type not in LOADED_BY_THE_PAGE:
                continue
            sizes = request.sizes()
            path = parts.path
            weights[path] = (
                weights.get(path, 0) + sizes["responseBodySize"] + sizes["responseHeadersSize"]
            )
        return weights

    def encodings(self) -> dict[str, str]:
        return {
            urlsplit(r.url).path: (r.response().headers.get("content-encoding") or "")
            for r in self.finished
            if urlsplit(r.url).netloc == self.netloc and r.response() is not None
        }


def _assert_light(name: str, weights: dict[str, int], encodings: dict[str, str]) -> int:
    total = sum(weights.values())
    detail = {path: (size, encodings.get(path, "")) for path, size in weights.items()}
    assert total <= BUDGET, f"{name}: {total} bytes > {BUDGET}: {detail}"
    # The text files and the document itself came compressed.
    for path, (_, encoding) in detail.items():
        if path.endswith((".js", ".css")) or not path.startswith("/static/"):
            assert encoding in ("gzip", "br"), (name, path, encoding)
    return total


def test_candidate_pages_weigh_at_most_40_kB_on_a_first_visit(e2e):
    world = seed(candidates=2)
    me = world.candidates[0]
    page = e2e.new_page("candidate")
    weigher = Weigher(page, e2e.server.netloc)

    totals = {}
    weights = weigher.weigh(lambda: page.goto("/"))
    assert "/" in weights
    totals["code"] = _assert_light("code page", weights, weigher.encodings())

    # The invitation after the code: the document the code's POST leads to, and its files.
    weights = weigher.weigh(lambda: enter_code(page, me.code))
    wait_for_stage(page, "invited")
    weights = weigher.weigh(lambda: page.reload())
    totals["invited"] = _assert_light("invitation", weights, weigher.encodings())

    # The notices and the device check.
    perform(me.id, "confirm", Actor.of_candidate(fresh(Candidate, me.id)), utcnow())
    weights = weigher.weigh(lambda: page.reload())
    wait_for_stage(page, "confirmed")
    totals["device_check"] = _assert_light("device check", weights, weigher.encodings())

    # The waiting room (with its supervised call: jitsi-embed.js).
    read_all_notices(fresh(Candidate, me.id))
    walk_to_waiting_from_confirmed(fresh(Candidate, me.id), world.assistant)
    weights = weigher.weigh(lambda: page.reload())
    wait_for_stage(page, "waiting")
    totals["waiting_room"] = _assert_light("waiting room", weights, weigher.encodings())
    # The numbers, for README's benchmark section: PAGE_WEIGHTS_JSON=FILE writes them there.
    if os.environ.get("PAGE_WEIGHTS_JSON"):
        Path(os.environ["PAGE_WEIGHTS_JSON"]).write_text(json.dumps(totals, indent=1))


def walk_to_waiting_from_confirmed(candidate: Candidate, assistant) -> None:
    """tests/e2e/actions.walk_to_waiting's moves after `confirm`, made already here."""
    now = utcnow()
    me, staff = Actor.of_candidate(candidate), Actor.staff(assistant)
    for move, actor in (
        ("enter_debug", me),
        ("call_debug", staff),
        ("accept_debug", me),
        ("check_identity", staff),
        ("mark_debugged", staff),
        ("enter_waiting", me),
        ("draw_lot", me),
    ):
        perform(candidate.id, move, actor, now)
    db.session.expire_all()
