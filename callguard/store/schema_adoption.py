"""What a migration that creates tables does about a database that may have them already.

Databases made before migrations (``metadata.create_all``) hold some of the tables a migration
creates: those are adopted — kept, once they are known to have every column the migration
lists — and only the missing ones are created.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.schema import SchemaItem

from ..errors import SchemaMismatch

# (table name, columns and constraints, indexes as (name, columns, unique))
TableSpec = tuple[str, Sequence[SchemaItem], Sequence[tuple[str, list[str], bool]]]


def create_or_adopt(tables: Sequence[TableSpec], *, revision: str) -> None:
    """Create each table the database lacks; check the columns of each it has."""
    bind = op.get_bind()
    existing = set(sa.inspect(bind).get_table_names())
    for name, items, indexes in tables:
        if name in existing:
            have = {column["name"] for column in sa.inspect(bind).get_columns(name)}
            missing = [item.name for item in items if isinstance(item, sa.Column) and item.name not in have]
            if missing:
                raise SchemaMismatch(
                    f"table {name} lacks the columns {', '.join(missing)}: "
                    "it was not made by a callguard this database can be adopted from",
                    current=None,
                    required=revision,
                )
            continue
        op.create_table(name, *items)
        for index_name, columns, unique in indexes:
            op.create_index(index_name, name, columns, unique=unique)
