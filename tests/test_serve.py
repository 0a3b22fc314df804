"""callguard.serve's gunicorn application, without starting it (tests/web/test_server.py runs it)."""

from __future__ import annotations

import gc
import weakref
from typing import Iterator

import pytest

from callguard.serve import CallguardServer, freeze_startup_objects, gunicorn_options


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_every_worker_freezes_its_startup_objects_once_the_app_is_built(unfrozen: None) -> None:
    server = CallguardServer({}, {"bind": "127.0.0.1:0", "workers": 1})
    assert gc.get_freeze_count() == 0
    server.cfg.post_worker_init(None)  # gunicorn calls it with the worker, after the worker's load()
    assert gc.get_freeze_count() > 0


def test_freezing_keeps_the_live_objects_from_the_collector_and_collects_the_garbage_first(unfrozen: None) -> None:
    class Node:
        pass

    gc.disable()  # no automatic collection may free the cycle before the freeze does
    try:
        cycle = Node()
        cycle.self = cycle  # type: ignore[attr-defined]
        gone = weakref.ref(cycle)
        del cycle  # garbage only the cyclic collector can free
        alive = [Node() for _ in range(10)]
        assert gone() is not None
        freeze_startup_objects()
    finally:
        gc.enable()
    assert gone() is None  # freed, not frozen for good
    assert gc.get_freeze_count() > len(alive)
    alive_ids = {id(obj) for obj in alive}
    assert not any(id(obj) in alive_ids for obj in gc.get_objects(generation=2))  # out of the collector's generations


def test_gunicorns_control_socket_only_at_a_path_given() -> None:
    off = CallguardServer({}, gunicorn_options(workers=1))
    assert off.cfg.control_socket_disable is True
    on = CallguardServer({}, gunicorn_options(workers=1, control_socket="/run/callguard/gunicorn.ctl"))
    assert on.cfg.control_socket_disable is False and on.cfg.control_socket == "/run/callguard/gunicorn.ctl"
    assert off.cfg.worker_class_str == "sync" and off.cfg.limit_request_fields == 100
