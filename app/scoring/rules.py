"""How examiners' sheets become one final score, and how finals become ranks. Pure functions.

Decimal throughout and one rounding, half up, at the very end: the published score must be the
one a person gets with pencil and paper from the same sheets (85.005 -> 85.01, never 85.0 from
binary floating point).
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import gettext as _

ZERO = Decimal("0")


@dataclass(frozen=True)
class Rule:
    """An exam's scoring rule (Exam.scoring_rule, trim_min_examiners, trim_per_dimension, ...)."""

    kind: str = "trimmed"  # trimmed | plain
    trim_min_examiners: int = 5
    per_dimension: bool = False
    decimals: int = 2

    @classmethod
    def of_exam(cls, exam) -> "Rule":
        return cls(
            kind=exam.scoring_rule,
            trim_min_examiners=exam.trim_min_examiners,
            per_dimension=exam.trim_per_dimension,
            decimals=exam.score_decimals,
        )

    def trims(self, examiners: int) -> bool:
        # Dropping two of fewer than three would leave nothing to average.
        return self.kind == "trimmed" and examiners >= max(3, self.trim_min_examiners)

    def describe(self) -> str:
        if self.kind == "plain":
            basis = _("The average of all examiners' scores")
        elif self.per_dimension:
            basis = _(
                "With %(n)s or more examiners, each dimension drops its highest and its lowest"
                " score before the average; otherwise the plain average",
                n=self.trim_min_examiners,
            )
        else:
            basis = _(
                "With %(n)s or more examiners, the totals drop the highest and the lowest before"
                " the average; otherwise the plain average",
                n=self.trim_min_examiners,
            )
        return _(
            "%(basis)s, kept to %(decimals)s decimal places (rounded half up)",
            basis=basis,
            decimals=self.decimals,
        )


def round_half_up(value: Decimal, decimals: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def _mean(values: list[Decimal], trim: bool) -> Decimal:
    if trim:
        values = sorted(values)[1:-1]  # one highest and one lowest, even when tied
    return sum(values, ZERO) / len(values)


def sheet_total(sheet: dict) -> Decimal:
    return sum((Decimal(v) for v in sheet.values()), ZERO)


def final_score(sheets: list[dict], rule: Rule) -> Decimal:
    """The final score from the submitted sheets ({dimension: value}) of the scoring examiners.

    Recused examiners are simply not among `sheets`: the rule applies to those who remain.
    """
    if not sheets:
        raise ValueError("no submitted score sheets")
    trim = rule.trims(len(sheets))
    if rule.per_dimension:
        dimensions = sheets[0].keys()
        raw = sum((_mean([Decimal(s[d]) for s in sheets], trim) for d in dimensions), ZERO)
    else:
        raw = _mean([sheet_total(s) for s in sheets], trim)
    return round_half_up(raw, rule.decimals)


def rank(scores: list[tuple[object, Decimal | None, tuple]], tie_rule: str = "tied") -> dict:
    """Competition ranks (1, 2, 2, 4) by score, high first; candidates without a score get none.

    `scores` holds (key, final score or None, tie-breakers); with tie_rule "tied" equal scores
    share a rank, otherwise the tie-breakers (higher first) order them before sharing.
    """
    ranked = sorted(
        (s for s in scores if s[1] is not None), key=lambda s: (s[1], s[2]), reverse=True
    )
    ranks: dict = {}
    previous = None
    for position, (key, score, breakers) in enumerate(ranked, start=1):
        signature = (score,) if tie_rule == "tied" else (score, breakers)
        if signature != previous:
            current = position
            previous = signature
        ranks[key] = current
    return ranks
