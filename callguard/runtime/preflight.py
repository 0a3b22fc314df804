"""Every setting checked once, before a server forks its workers (``callguard serve``, ``gunicorn wsgi:app``)."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from ..errors import ConfigError, StoreUnavailable
from ..policy.auth_tokens import resolve_auth_tokens
from ..policy.loader import load_policy
from ..registry import RegistryDirectory
from ..store.counters import open_counters
from ..store.database import create_database_engine
from ..store.migrate import ensure_schema
from .admin_tokens import parse_admin_tokens
from .settings import Settings


def preflight(config: MutableMapping[str, Any]) -> Settings:
    """Check every setting once, before any worker forks; raise :class:`ConfigError` for the first bad one.

    A bad setting found here is one line naming it, rather than a traceback from every worker
    building its app. The schema is migrated here (when auto-migration is on), sparing the
    workers a wait. ``config`` gets the absolute database URL, so every worker opens the file
    the master checked whatever its working directory.
    """
    settings = Settings.from_mapping(config)
    config["CALLGUARD_DATABASE_URL"] = settings.database_url
    policy = load_policy(settings.policy_path)
    resolve_auth_tokens(policy, config)
    parse_admin_tokens(config)
    RegistryDirectory(settings.registry_dir).close()  # a corrupt registry file, too, is one line here
    open_counters(settings.redis_url, settings.counters_path, prefix=settings.redis_prefix).close()
    engine = create_database_engine(settings.database_url, timeout=None)  # an upgrade at start-up takes as long as it takes
    try:
        ensure_schema(engine, upgrade=settings.auto_migrate)
    except StoreUnavailable as exc:
        raise ConfigError(f"cannot open the database: {exc.problem}", key="CALLGUARD_DATABASE_URL") from None
    finally:
        engine.dispose()
    return settings
