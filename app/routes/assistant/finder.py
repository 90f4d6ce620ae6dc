"""Finding one candidate of a panel by what an assistant types: a lot number, a name, or the tail
of the ID number (the violation form's type-ahead, and its answer without JavaScript).

The scope is the panel's candidates, exactly those the form listed before. A match never shows
more than the console does already: the masked ID number (its first six and last four digits),
no phone. So an ID tail is matched on the last four characters at most: a longer tail would
tell, by matching or not, digits that the console keeps hidden.
"""

import re

from sqlalchemy import case, func, or_, select

from app import db
from app.models import Candidate, Panel

LIMIT = 20
QUERY_MAX = 50
SHOWN_TAIL = 4  # masked_id_number shows the last four characters
TAIL = re.compile(r"[0-9]{3,4}[Xx]?|[0-9]{2,3}[Xx]")
LOT = re.compile(r"[0-9]{1,4}")


def clean(query: str | None) -> str:
    return (query or "").strip()[:QUERY_MAX]


def find_candidates(panel: Panel, query: str, limit: int = LIMIT) -> list[Candidate]:
    """The panel's candidates that match, best first: the lot number itself, then by lot order;
    at most `limit`. An empty query finds nobody (the form lists no one unasked)."""
    query = clean(query)
    if not query:
        return []
    # autoescape: a % or _ typed is a letter, not a wildcard.
    matches = [Candidate.name.contains(query, autoescape=True)]
    exact_lot = int(query) if LOT.fullmatch(query) else None
    if exact_lot is not None:
        matches.append(Candidate.lot_number == exact_lot)
    if TAIL.fullmatch(query) and len(query) <= SHOWN_TAIL:
        matches.append(func.upper(Candidate.id_number).like(f"%{query.upper()}"))
    order = [Candidate.lot_number.is_(None), Candidate.lot_number, Candidate.name, Candidate.id]
    if exact_lot is not None:
        order.insert(0, case((Candidate.lot_number == exact_lot, 0), else_=1))
    rows = db.session.scalars(
        select(Candidate)
        .where(Candidate.panel_id == panel.id, or_(*matches))
        .order_by(*order)
        .limit(limit)
    ).all()
    return list(rows)


def candidate_of_panel(panel: Panel, candidate_id: int | None) -> Candidate | None:
    """The candidate chosen in the finder, if they are on this panel; anyone else: None (the
    form says "no such candidate" alike, so it tells nothing about other panels)."""
    if candidate_id is None:
        return None
    return db.session.scalar(
        select(Candidate).where(Candidate.id == candidate_id, Candidate.panel_id == panel.id)
    )


def typed_candidate(panel: Panel, typed: str) -> tuple[Candidate | None, int]:
    """Without JavaScript the form posts only what was typed: a lot number of the panel picks
    that candidate, and so does anything that matches exactly one. Returns the candidate (or
    None) and how many matched, so that the refusal can say why."""
    typed = clean(typed)
    if not typed:
        return None, 0
    if LOT.fullmatch(typed):
        by_lot = db.session.scalar(
            select(Candidate).where(
                Candidate.panel_id == panel.id, Candidate.lot_number == int(typed)
            )
        )
        if by_lot is not None:
            return by_lot, 1
    found = find_candidates(panel, typed, limit=2)
    return (found[0] if len(found) == 1 else None), len(found)
