"""The webhooks' fast paths: each kept because a request-level profile shows it saves at least
1 % of a request (the figures are in benchmarks/README.md), each held equal to the plain form by
tests/web/test_fast.py.
"""

from __future__ import annotations

from collections.abc import ItemsView
from typing import cast

from werkzeug.datastructures import MultiDict


def multidict_lists(form: MultiDict[str, str]) -> ItemsView[str, list[str]]:
    """``form.lists()``: each name with its list of values, in the form's order.

    werkzeug keeps a MultiDict as a dict of each name's list of values; ``dict.items`` reads
    those at C speed, where ``lists()`` is a generator copying every list. The lists are the
    form's own: read them, never change them. (werkzeug's type hints describe a MultiDict by its
    first values, hence the cast.)"""
    return dict.items(cast("dict[str, list[str]]", form))
