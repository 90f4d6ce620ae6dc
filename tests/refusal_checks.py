"""`with refusal("code"):` — a rule said no, and which rule (the words live in app/refusals.py)."""

from contextlib import contextmanager

import pytest

from app.refusals import Refused


@contextmanager
def refusal(code: str, *, kind: type[Refused] = Refused, **params):
    with pytest.raises(kind) as caught:
        yield caught
    assert caught.value.code == code, f"refused with {caught.value.code!r}: {caught.value}"
    for name, value in params.items():
        assert caught.value.params[name] == value, (name, caught.value.params)
