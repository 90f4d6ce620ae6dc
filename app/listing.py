"""Server-side paging and search for HR's long candidate lists (candidates, codes, slips,
results): one COUNT and one LIMIT/OFFSET query whatever the exam's size.

A page number comes from the URL as typed: anything that is not a positive whole number reads
as page 1, one past the end as the last page, so a stale link or a typo never fails.
"""

from dataclasses import dataclass
from math import ceil

from sqlalchemy import ColumnElement, Select, func, or_, select

from app import db
from app.models import Candidate
from app.models.candidate import STATE_LABELS

PAGE_SIZE = 100
# A printing run: about 80 kB of slips (1 kB each with every deadline on the slip), five runs
# for a panel of 500.
SLIPS_PAGE_SIZE = 100
SEARCH_MAX = 40  # longer than any name, ID number, phone or code
# Past this, a "page" is a typo: it still reads as the last page.
PAGE_MAX = 10**6


def page_number(raw: str | None) -> int:
    try:
        number = int((raw or "").strip())
    except ValueError:
        return 1
    return min(max(number, 1), PAGE_MAX)


@dataclass
class Page:
    number: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.size))

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    @property
    def first(self) -> int:
        """1-based position of the first row shown (0 when nothing matches)."""
        return self.offset + 1 if self.total else 0

    @property
    def last(self) -> int:
        return min(self.offset + self.size, self.total)

    def links(self) -> list[int | None]:
        """Page numbers to link: the first, the last and two either side of this one; None
        stands for a gap."""
        wanted = {1, self.pages, *range(self.number - 2, self.number + 3)}
        shown = sorted(n for n in wanted if 1 <= n <= self.pages)
        out: list[int | None] = []
        for n in shown:
            if out and n - (out[-1] or 0) > 1:
                out.append(None)
            out.append(n)
        return out


def paginate(query: Select, raw_page: str | None, size: int = PAGE_SIZE) -> tuple[Page, list]:
    """The page of `query`'s rows asked for (clamped), and its place in the whole; `query` must
    have a deterministic ORDER BY (end it with a unique column)."""
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    page = Page(page_number(raw_page), size, total or 0)
    page.number = min(page.number, page.pages)
    rows = list(db.session.scalars(query.limit(size).offset(page.offset)).unique())
    return page, rows


@dataclass
class CandidateFilters:
    """What HR narrowed a candidate list to: ?q= (name, ID number, phone, code, lot), ?state=,
    ?panel= (an id of the exam's panels, or "none"); anything unknown reads as no filter."""

    q: str = ""
    state: str = ""
    panel: str = ""

    @classmethod
    def from_args(cls, args, panel_ids, *, states: bool = True) -> "CandidateFilters":
        q = " ".join((args.get("q") or "").split())[:SEARCH_MAX]
        state = args.get("state", "") if states else ""
        if state not in STATE_LABELS:
            state = ""
        panel = args.get("panel", "")
        if not (panel == "none" or (_is_number(panel) and int(panel) in set(panel_ids))):
            panel = ""
        return cls(q=q, state=state, panel=panel)

    def args(self) -> dict:
        """The URL's query arguments for these filters (in the order the pages always used)."""
        return {
            key: value
            for key, value in (("state", self.state), ("panel", self.panel), ("q", self.q))
            if value
        }

    def with_page(self, number: int) -> dict:
        """The arguments of one page's link: page 1 is the list's own URL."""
        return {**self.args(), **({"page": number} if number > 1 else {})}

    def apply(self, query: Select) -> Select:
        if self.state:
            query = query.where(Candidate.state == self.state)
        if self.panel == "none":
            query = query.where(Candidate.panel_id.is_(None))
        elif self.panel:
            query = query.where(Candidate.panel_id == int(self.panel))
        if self.q:
            query = query.where(search_clause(self.q))
        return query


def _is_number(text: str) -> bool:
    # str.isdigit alone takes superscripts ("²"), which int() refuses: a 500, not a filter.
    return text.isascii() and text.isdigit()


def search_clause(text: str):
    """Rows whose name, ID number, phone or code contain `text`, or whose lot it is."""
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    matches: list[ColumnElement[bool]] = [
        column.ilike(pattern, escape="\\")
        for column in (Candidate.name, Candidate.id_number, Candidate.phone, Candidate.code)
    ]
    if _is_number(text) and len(text) <= 4:
        matches.append(Candidate.lot_number == int(text))
    return or_(*matches)
