"""The audit INSERT, compiled once per dialect and set of columns and run by the driver's executemany."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from itertools import compress
from operator import is_not
from typing import Any

from sqlalchemy import insert
from sqlalchemy.engine import Engine

from ..schema import decisions
from .timestamps import epoch_stamps


class DriverInsert:
    """The audit INSERT compiled once per dialect and set of columns, run by the driver's executemany.

    Every decision is a row, written by a background thread of each worker: SQLAlchemy's
    per-row parameter handling would cost that thread about a third of each row's time. The
    dialect's own bind processors convert each value (SQLite's ``DATETIME`` writes SQLAlchemy's
    storage format, not the driver's ``isoformat``), so rows are stored exactly as an
    ``insert(decisions)`` stores them. A row binds only its non-NULL columns (the others are
    NULL by omission, as no column has a default): sqlite3 adapts every ``None`` it binds through
    its adapter registry, about a microsecond each, and a typical row has several. Consecutive
    rows with the same columns, the usual case, go in one executemany, in order.
    """

    def __init__(self, engine: Engine, columns: Sequence[str]) -> None:
        self.dialect = engine.dialect
        self.columns = tuple(columns)
        processors: list[tuple[int, Callable[[Any], Any]]] = []
        for i, column in enumerate(self.columns):
            type_ = decisions.c[column].type
            process: Callable[[Any], Any] | None = type_.dialect_impl(self.dialect).bind_processor(self.dialect)
            if type_.python_type is datetime:  # given epoch seconds, whether or not the dialect converts
                process = epoch_stamps(process)
            if process is not None:
                processors.append((i, process))
        self.processors = tuple(processors)
        self._nones = (None,) * len(self.columns)
        self._statements: dict[tuple[bool, ...], tuple[str, Callable[[list[tuple[Any, ...]]], Any]]] = {}

    def statement(self, present: tuple[bool, ...]) -> tuple[str, Callable[[list[tuple[Any, ...]]], Any]]:
        """The INSERT of the columns flagged in ``present``, and what turns rows of their values
        (in column order) into the driver's parameters, worked out once per set of columns."""
        found = self._statements.get(present)
        if found is None:
            names = tuple(compress(self.columns, present))
            compiled = insert(decisions).compile(dialect=self.dialect, column_keys=list(names))
            positions = compiled.positiontup
            to_params: Callable[[list[tuple[Any, ...]]], Any]
            if positions is None:  # named parameters (psycopg)
                to_params = lambda rows: [dict(zip(names, row, strict=True)) for row in rows]  # noqa: E731
            elif (order := tuple(names.index(name) for name in positions)) == tuple(range(len(names))):
                to_params = lambda rows: rows  # noqa: E731  (sqlite3: already in the statement's order)
            else:
                to_params = lambda rows: [tuple(row[i] for i in order) for row in rows]  # noqa: E731
            found = self._statements[present] = (str(compiled), to_params)
        return found

    def execute(self, conn: Any, rows: Sequence[list[Any]]) -> None:
        """INSERT ``rows``, each a value per column (None for NULL), in order."""
        processors, nones = self.processors, self._nones
        runs: list[tuple[tuple[bool, ...], list[tuple[Any, ...]]]] = []
        last: tuple[bool, ...] | None = None
        for values in rows:
            values = list(values)  # the caller's row is left as it was
            for i, process in processors:
                if values[i] is not None:
                    values[i] = process(values[i])
            present = tuple(map(is_not, values, nones))
            bound = tuple(compress(values, present))
            if present == last:
                runs[-1][1].append(bound)
            else:
                runs.append((present, [bound]))
                last = present
        for present, bound_rows in runs:
            sql, to_params = self.statement(present)
            conn.exec_driver_sql(sql, to_params(bound_rows))
