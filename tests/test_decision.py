"""What goes into the engine and what comes out (callguard.decision)."""

from __future__ import annotations

import pytest

from callguard import Action, DialRequest
from callguard.decision import Fault
from callguard.errors import StaleData, StoreUnavailable


def test_an_action_reads_as_its_word() -> None:
    assert [str(action) for action in Action] == ["connect", "reject", "disclose"]
    assert f"{Action.REJECT}; reasons=geo.low_risk" == "reject; reasons=geo.low_risk"
    assert Action("disclose") is Action.DISCLOSE and Action.CONNECT == "connect"


def test_a_dial_request_compares_by_its_fields_and_being_mutable_is_not_hashable() -> None:
    request = DialRequest("AC1", "+14155550123", "+14155550100", call_sid="CA1")
    assert request == DialRequest("AC1", "+14155550123", "+14155550100", call_sid="CA1")
    assert request != DialRequest("AC1", "+14155550123", "+14155550100", call_sid="CA2")
    with pytest.raises(TypeError):
        hash(request)


def test_a_store_outage_fault_carries_its_backend_and_operation() -> None:
    fault = Fault.of(StoreUnavailable("connection refused", backend="redis", operation="counters batch"))
    assert fault == Fault("StoreUnavailable", "redis (counters batch): connection refused", backend="redis", operation="counters batch")
    assert str(fault) == "StoreUnavailable: redis (counters batch): connection refused"
    assert Fault.of(StoreUnavailable("gone", backend="sqlite")).operation is None


def test_any_other_fault_is_its_class_name_and_message() -> None:
    assert Fault.of(RuntimeError("boom")) == Fault("RuntimeError", "boom")
    stale = Fault.of(StaleData("the runtime policy", fresh_until=0.0))
    assert (stale.kind, stale.backend, stale.operation) == ("StaleData", None, None)
    assert str(stale) == "StaleData: the runtime policy could not be refreshed and is past its staleness limit"
    assert str(Fault.of(KeyError("To"))) == "KeyError: 'To'"
