"""Alembic's environment for callguard's records database.

callguard runs its migrations itself (:mod:`callguard.store.migrate`), handing Alembic an open
connection in ``config.attributes["connection"]``, so no ``alembic.ini`` is needed and an
installed wheel migrates from its own package data. Only the ``callguard_*`` tables are
callguard's: anything else sharing the database is left out of comparisons.
"""

from __future__ import annotations

from alembic import context

from callguard.store.migrate import configure_context

configure_context(context)
with context.begin_transaction():
    context.run_migrations()
