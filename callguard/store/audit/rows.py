"""A decision as its ``callguard_decisions`` row: a value per column, in the table's order."""

from __future__ import annotations

from typing import Any

from ...clock import utc_datetime
from ...decision import Decision
from ..schema import COLUMN_LENGTHS, decisions

# The table's columns but the id, in order: what decision_values() gives a value for.
DECISION_COLUMNS: tuple[str, ...] = tuple(decisions.c.keys()[1:])
_ACCOUNT, _CALL, _TO, _FROM, _SOURCE, _SIP, _CAMPAIGN = (
    COLUMN_LENGTHS[name] for name in ("account_sid", "call_sid", "to_raw", "from_raw", "source", "sip_domain", "campaign")
)


def _clip(value: str | None, limit: int) -> str | None:
    if value is None:
        return None
    return value.replace("\x00", "\ufffd")[:limit]  # PostgreSQL text cannot hold NUL


def decision_values(decision: Decision) -> list[Any]:
    """The ``callguard_decisions`` row for a decision, a value per :data:`DECISION_COLUMNS`,
    ``decided_at`` as the decision's epoch seconds (the writer binds the column's value from it).

    What the caller sent (account, numbers, call SID, SIP domain) is clipped to its column and
    cleaned of NUL; what callguard computed is bounded by construction. (Every decision is a
    row: enum values are read as ``_value_``, not through the slower ``value`` property.)
    """
    request = decision.request
    info = decision.info
    to = request.to
    return [
        decision.decided_at,
        _clip(request.account_sid, _ACCOUNT),
        _clip(request.call_sid, _CALL),
        decision.action._value_,
        ",".join(decision.reasons),
        decision.sentence.replace("\x00", "\ufffd"),
        _clip(to if isinstance(to, str) else repr(to), _TO),
        _clip(request.from_, _FROM),
        decision.target.kind._value_,
        decision.target.e164,
        decision.caller_id,
        info.region if info is not None else None,
        info.country_code if info is not None else None,
        info.type_name if info is not None else None,
        info.risk._value_ if info is not None else None,
        ",".join(decision.checks),
        _clip(request.source, _SOURCE),
        _clip(request.sip_domain, _SIP),
        _clip(request.campaign, _CAMPAIGN),
        round(decision.elapsed_us, 1),
        str(decision.fault).replace("\x00", "\ufffd") if decision.fault else None,
    ]


def decision_row(decision: Decision) -> dict[str, Any]:
    """The ``callguard_decisions`` row for a decision, by column name, as ``insert(decisions)``
    takes it (see :func:`decision_values`; ``decided_at`` an aware UTC datetime)."""
    row = dict(zip(DECISION_COLUMNS, decision_values(decision), strict=True))
    row["decided_at"] = utc_datetime(row["decided_at"])
    return row
