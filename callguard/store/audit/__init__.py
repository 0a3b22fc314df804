"""The audit log of decisions: every decision the engine makes becomes one row of ``callguard_decisions``.

- :mod:`.rows`: a decision as the row's values (what the caller sent clipped to its column).
- :mod:`.log`: :class:`SqlAuditLog`, synchronous writes and every read (recent rows, queries).
- :mod:`.insert`: the INSERT the writers run, compiled once per dialect and set of columns.
- :mod:`.timestamps`: the timestamp text SQLite stores, made from epoch seconds.
- :mod:`.writer`: :class:`BatchingAuditLog`, the queue a web worker records into (no I/O on the
  request's thread) and the flush a background worker runs.
- :mod:`.pruning`: :class:`~.pruning.AuditPruner`, decisions older than the retention pruned in
  bounded steps by one process at a time.
- :mod:`.partitions`: the monthly partitions of the table on PostgreSQL, made ahead and dropped
  when they expire.
"""

from .log import AuditRecord, SqlAuditLog
from .rows import DECISION_COLUMNS, decision_row, decision_values
from .writer import AuditStats, BatchingAuditLog

__all__ = [
    "DECISION_COLUMNS",
    "AuditRecord",
    "AuditStats",
    "BatchingAuditLog",
    "SqlAuditLog",
    "decision_row",
    "decision_values",
]
