"""callguard.web._fast: each fast path gives what the plain form gives."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from callguard.web._fast import multidict_lists

pairs = st.lists(st.tuples(st.text(max_size=6), st.text(max_size=6)), max_size=10)


@given(pairs)
def test_multidict_lists_is_what_lists_gives(items: list[tuple[str, str]]) -> None:
    form = MultiDict(items)
    assert list(multidict_lists(form)) == list(form.lists())


def test_multidict_lists_sees_values_added_later() -> None:
    form = MultiDict([("Digits", "1")])
    form.add("Digits", "2")
    form.setlist("To", ["+14155550123"])
    assert list(multidict_lists(form)) == list(form.lists()) == [("Digits", ["1", "2"]), ("To", ["+14155550123"])]
