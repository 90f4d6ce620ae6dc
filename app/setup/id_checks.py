"""Two identifiers a candidate brings: a resident ID number (居民身份证号) and a mainland mobile.

`normalise_*` tidies what people type or paste (spaces, full-width digits from a Chinese input
method, a lower-case x, a +86 prefix); `*_problem` says what is still wrong (through
gettext: in Chinese unless a staff member who chose English reads it), or returns None. Both are
pure and idempotent, so the importer, forms and the demo data share one rule.
"""

import re
import unicodedata
from datetime import date

from flask_babel import gettext as _

from app.timeutil import BEIJING, utcnow

ID_NUMBER_LENGTH = 18

# GB 11643-1999 check character, ISO 7064 MOD 11-2: position i (0-based) weighs 2**(17-i) mod 11,
# and the weighted sum mod 11 picks the check character from this table.
_ID_WEIGHTS = [2 ** (17 - i) % 11 for i in range(17)]
_ID_CHECK_CHARACTERS = "10X98765432"

_ID_SHAPE = re.compile(r"[0-9]{17}[0-9X]")
_MOBILE_SHAPE = re.compile(r"1[3-9][0-9]{9}")
_MOBILE_SEPARATORS = re.compile(r"[\s-]+")


def _halfwidth(raw: str) -> str:
    # NFKC turns full-width digits, letters, '+' and '－' into ASCII and U+3000 into a plain space.
    return unicodedata.normalize("NFKC", raw)


def normalise_id_number(raw: str) -> str:
    """Half-width, no whitespace anywhere, final x upper-cased. Does not check anything."""
    return re.sub(r"\s+", "", _halfwidth(str(raw))).upper()


def _id_check_character(first_17_digits: str) -> str:
    total = sum(
        int(digit) * weight for digit, weight in zip(first_17_digits, _ID_WEIGHTS, strict=True)
    )
    return _ID_CHECK_CHARACTERS[total % 11]


def id_number_problem(value: str) -> str | None:
    """Why `value` is not a valid 18-digit ID number; None when it is."""
    id_number = normalise_id_number(value)
    if not id_number:
        return _("the ID number is empty")
    if len(id_number) != ID_NUMBER_LENGTH:
        return _(
            "the ID number should have %(expected)s characters, it has %(actual)s",
            expected=ID_NUMBER_LENGTH,
            actual=len(id_number),
        )
    if not _ID_SHAPE.fullmatch(id_number):
        return _(
            "the ID number is malformed (the first 17 characters must be digits, the last a digit"
            " or X)"
        )
    birth = id_number[6:14]
    try:
        born = date(int(birth[:4]), int(birth[4:6]), int(birth[6:]))
    except ValueError:
        return _("the date of birth %(birth)s in the ID number is not a valid date", birth=birth)
    # "Today" where the candidates are: a server clock on UTC would be a day behind before 8:00.
    if born > utcnow().astimezone(BEIJING).date():
        return _("the date of birth %(birth)s in the ID number is after today", birth=birth)
    if id_number[-1] != _id_check_character(id_number[:17]):
        return _("the ID number's check character is wrong")
    return None


def normalise_mobile(raw: str | int) -> str:
    """Eleven digits when the input is a mobile in any accepted form; otherwise tidied input.

    Accepts surrounding and internal spaces or hyphens and a '+86' or '86' country prefix.
    """
    text = _MOBILE_SEPARATORS.sub("", _halfwidth(str(raw)))
    if text.startswith("+86"):
        return text[3:]
    # A bare 86 is a prefix only when eleven digits follow; otherwise leave it for the check.
    if text.startswith("86") and len(text) == 13:
        return text[2:]
    return text


def mobile_problem(value: str | int) -> str | None:
    """Why `value` is not a mainland mobile number; None when it is."""
    mobile = normalise_mobile(value)
    if not mobile:
        return _("the mobile number is empty")
    if not _MOBILE_SHAPE.fullmatch(mobile):
        return _(
            "the mobile number is wrong (it should be 11 digits, starting with 1, the second"
            " digit 3–9)"
        )
    return None
