"""Optional dependencies: imported only where a setting asks for them, and named when missing.

A plain ``pip install callguard-voice`` runs the embedded default (SQLite, no other service).
PostgreSQL and Redis need an extra each; the module that talks to one is imported only when a
setting points at that service, inside :func:`extra_needed`, so a missing package becomes one
line saying which extra to install, not a traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from .errors import MissingExtra

DISTRIBUTION = "callguard-voice"

# The top-level packages each extra installs (what a ModuleNotFoundError names).
EXTRA_PACKAGES: dict[str, frozenset[str]] = {
    "postgres": frozenset({"psycopg", "psycopg_binary", "psycopg_c"}),
    "redis": frozenset({"redis", "hiredis"}),
    "holidays": frozenset({"holidays"}),
}


def install_command(extra: str) -> str:
    return f"pip install '{DISTRIBUTION}[{extra}]'"


@contextmanager
def extra_needed(extra: str, *, setting: str) -> Iterator[None]:
    """Turn the import of a missing package of ``extra`` into :class:`MissingExtra` naming ``setting``.

    Any other import error (a bug, a broken install of something else) goes through unchanged.
    """
    try:
        yield
    except ModuleNotFoundError as exc:
        package = (exc.name or "").partition(".")[0]
        if package not in EXTRA_PACKAGES[extra]:
            raise
        raise MissingExtra(extra=extra, package=package, setting=setting, install=install_command(extra)) from None
