"""Schema migrations of the records database (callguard.store.migrate), on SQLite and PostgreSQL."""

from __future__ import annotations

import fnmatch
import os
import threading
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, text

from callguard import DialRequest, FakeClock, Guard
from callguard.errors import SchemaMismatch
from callguard.policy import Policy
from callguard.store import SqlAuditLog, create_database_engine, ensure_schema
from callguard.store.migrate import MIGRATIONS_DIRECTORY, VERSION_TABLE, current_revision, head_revision, schema_differences
from callguard.store.optouts import OptOutStore
from callguard.store.schema import metadata

from ..conftest import MAIN

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def engine(database_url: str):
    engine = create_database_engine(database_url)
    yield engine
    engine.dispose()


def test_the_migrated_schema_is_the_codes(engine) -> None:
    assert current_revision(engine) is None
    assert ensure_schema(engine) == (None, head_revision())
    assert current_revision(engine) == head_revision()
    assert schema_differences(engine) == []  # Alembic's autogenerate comparison against `metadata`
    assert ensure_schema(engine) == (head_revision(), head_revision())


def test_a_schema_that_differs_from_the_code_is_reported(engine) -> None:
    ensure_schema(engine)
    with engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_callguard_changes_at"))
        conn.execute(text("CREATE TABLE callguard_stray (id INTEGER PRIMARY KEY)"))
        conn.execute(text("CREATE TABLE someone_elses (id INTEGER PRIMARY KEY)"))  # not callguard's: ignored
    assert sorted(schema_differences(engine)) == [
        "add_index ix_callguard_changes_at on callguard_changes",
        "remove_table callguard_stray",
    ]


def test_a_database_made_by_create_all_is_adopted_with_its_data(engine) -> None:
    metadata.create_all(engine)  # what callguard did before it had migrations
    OptOutStore(engine).add("+14155550123", "AC" + "1" * 32, now=1_780_000_000.0)
    with pytest.raises(SchemaMismatch, match="callguard tables but no migration history.*run `callguard db upgrade`"):
        ensure_schema(engine, upgrade=False)
    assert ensure_schema(engine) == (None, head_revision())
    assert [o.number for o in OptOutStore(engine).list()] == ["+14155550123"]
    assert schema_differences(engine) == []


def test_a_database_with_only_some_tables_gets_the_rest(engine) -> None:
    metadata.tables["callguard_decisions"].create(engine)
    ensure_schema(engine)
    assert schema_differences(engine) == []


def test_a_table_that_is_not_callguards_shape_is_not_adopted(engine) -> None:
    Table("callguard_optouts", MetaData(), Column("id", Integer, primary_key=True), Column("number", String(32))).create(engine)
    with pytest.raises(SchemaMismatch, match="callguard_optouts lacks the columns account_sid, campaign, source, created_at"):
        ensure_schema(engine)


def test_without_upgrade_a_fresh_database_stops_start_up_with_what_to_run(engine) -> None:
    with pytest.raises(SchemaMismatch) as raised:
        ensure_schema(engine, upgrade=False)
    assert str(raised.value) == (
        f"CALLGUARD_DATABASE_URL: the database has no callguard schema (this callguard needs revision {head_revision()}): "
        "run `callguard db upgrade`, or set CALLGUARD_AUTO_MIGRATE=true"
    )
    assert raised.value.current is None and raised.value.required == head_revision()
    ensure_schema(engine)
    assert ensure_schema(engine, upgrade=False) == (head_revision(), head_revision())


def test_a_schema_from_a_newer_callguard_stops_start_up(engine) -> None:
    ensure_schema(engine)
    with engine.begin() as conn:
        conn.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = '9999'"))
    for upgrade in (True, False):
        with pytest.raises(SchemaMismatch, match="at revision 9999, which this callguard does not know .*upgrade callguard"):
            ensure_schema(engine, upgrade=upgrade)


def test_workers_starting_at_once_migrate_once(database_url: str) -> None:
    engines = [create_database_engine(database_url) for _ in range(4)]
    barrier = threading.Barrier(len(engines))
    results: list[tuple[str | None, str]] = []
    errors: list[BaseException] = []

    def start(engine) -> None:
        barrier.wait()
        try:
            results.append(ensure_schema(engine))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(engine,)) for engine in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for engine in engines:
        engine.dispose()
    assert errors == []
    head = head_revision()
    assert sorted(results, key=lambda r: r[0] or "") == [(None, head)] + [(head, head)] * 3


def test_every_migration_file_ships_in_the_package() -> None:
    """An installed wheel migrates from package data: every file of the migrations directory
    must match the package-data globs in pyproject.toml."""
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["callguard.store"]
    package = ROOT / "callguard" / "store"
    shipped, missing = [], []
    for directory, _dirs, files in os.walk(MIGRATIONS_DIRECTORY):
        for name in files:
            if name.endswith(".pyc"):
                continue
            relative = str((Path(directory) / name).relative_to(package))
            (shipped if any(fnmatch.fnmatch(relative, glob) for glob in globs) else missing).append(relative)
    assert missing == []
    assert "migrations/env.py" in shipped and any(path.startswith("migrations/versions/") for path in shipped)


def test_audit_timestamps_the_driver_adapter_wrote_are_rewritten_in_sqlalchemys_form(sqlite_url: str) -> None:
    from alembic import command

    from callguard.store import SqlAuditLog
    from callguard.store.migrate import _config

    engine = create_database_engine(sqlite_url)
    with engine.begin() as conn:
        command.upgrade(_config(conn), "0002")
        for stamp in ("2026-12-03 14:19:55.289101+00:00", "2026-12-03 14:19:56+00:00", "2026-12-03 14:19:57.000001"):
            conn.execute(
                text("INSERT INTO callguard_decisions (decided_at, action, reasons, sentence) VALUES (:at, 'connect', 'ok', '')"),
                {"at": stamp},
            )
    assert ensure_schema(engine) == ("0002", head_revision())
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT decided_at FROM callguard_decisions ORDER BY id")).scalars().all()
    assert stored == ["2026-12-03 14:19:55.289101", "2026-12-03 14:19:56.000000", "2026-12-03 14:19:57.000001"]
    noon = datetime(2026, 12, 3, 14, 19, 55, tzinfo=UTC).timestamp()
    read = [r.decided_at - noon for r in reversed(SqlAuditLog(engine).recent(3))]
    assert read == pytest.approx([0.289101, 1.0, 2.000001], abs=1e-6)
    engine.dispose()


def _decisions_at(engine, policy: Policy, stamps: list[datetime]) -> None:
    """Rows written by the audit log's own writer, at the given times."""
    clock = FakeClock()
    guard = Guard(policy, clock=clock, audit=SqlAuditLog(engine))
    for i, stamp in enumerate(stamps):
        clock.set(stamp)
        guard.check(DialRequest(MAIN, "+14155550123", "+14155550100", call_sid=f"CA-{i}"))


def _rows(engine) -> list[tuple[int, datetime, str]]:
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(text("SELECT id, decided_at, call_sid FROM callguard_decisions ORDER BY id"))]


@pytest.mark.postgres
def test_on_postgresql_the_audit_table_becomes_partitioned_by_month_keeping_its_rows_ids_and_indexes(
    postgres_url: str, policy: Policy
) -> None:
    from alembic import command
    from sqlalchemy import inspect

    from callguard.store.audit.partitions import Month, partitions
    from callguard.store.migrate import _config

    engine = create_database_engine(postgres_url)
    with engine.begin() as conn:
        command.upgrade(_config(conn), "0003")
    stamps = [datetime(2025, 11, 30, 23, 59, 59, 999999, tzinfo=UTC), datetime(2025, 12, 1, tzinfo=UTC), datetime(2026, 3, 15, tzinfo=UTC)]
    _decisions_at(engine, policy, stamps)
    before = _rows(engine)
    indexes_before = sorted((ix["name"], ix["column_names"]) for ix in inspect(engine).get_indexes("callguard_decisions"))

    assert ensure_schema(engine) == ("0003", head_revision())
    assert _rows(engine) == before  # every row, with its id
    assert sorted((ix["name"], ix["column_names"]) for ix in inspect(engine).get_indexes("callguard_decisions")) == indexes_before
    assert inspect(engine).get_pk_constraint("callguard_decisions")["constrained_columns"] == ["id", "decided_at"]
    now = Month.of(datetime.now(UTC))
    with engine.connect() as conn:
        months, default = partitions(conn)
        assert conn.execute(text("SELECT count(*) FROM callguard_decisions_2025_11")).scalar_one() == 1
        assert conn.execute(text("SELECT count(*) FROM callguard_decisions_default")).scalar_one() == 0
    assert default and months == sorted({Month(2025, 11), Month(2025, 12), Month(2026, 3), now, now.plus(1), now.plus(2)})
    assert schema_differences(engine) == []  # the partitions are not the code's tables, and are left out
    _decisions_at(engine, policy, [datetime(2026, 3, 16, tzinfo=UTC)])
    assert _rows(engine)[-1][0] == before[-1][0] + 1  # the id sequence goes on

    with engine.begin() as conn:
        command.downgrade(_config(conn), "0003")
    assert _rows(engine)[:3] == before
    assert inspect(engine).get_pk_constraint("callguard_decisions")["constrained_columns"] == ["id"]
    with engine.connect() as conn:
        assert partitions(conn) == ([], False)
    engine.dispose()


def test_on_sqlite_the_audit_table_stays_a_plain_table(sqlite_url: str, policy: Policy) -> None:
    from alembic import command

    from callguard.store.migrate import _config

    engine = create_database_engine(sqlite_url)
    with engine.begin() as conn:
        command.upgrade(_config(conn), "0003")
    _decisions_at(engine, policy, [datetime(2025, 11, 30, tzinfo=UTC)])
    before = _rows(engine)
    assert ensure_schema(engine) == ("0003", head_revision())
    assert _rows(engine) == before and schema_differences(engine) == []
    engine.dispose()
