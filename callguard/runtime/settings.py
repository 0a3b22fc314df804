"""Settings: the ``CALLGUARD_*`` keys, read from Flask config or the environment.

The same keys work in both places; Flask config wins, so a test or an embedding app can pass
them to ``create_app(config)`` while a deployment sets environment variables.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..clock import Clock, system_clock
from ..deadline import DEFAULT_ANSWER_DEADLINE, TWILIO_WEBHOOK_SECONDS
from ..errors import ConfigError
from ..retention import DEFAULT_RETENTION, Retention, parse_retention
from ..store.database import default_database_url
from ..store.database_bounds import DEFAULT_DATABASE_TIMEOUT

ENVIRONMENT_KEYS = (
    "CALLGUARD_POLICY",
    "CALLGUARD_DATABASE_URL",
    "CALLGUARD_PUBLIC_URL",
    "CALLGUARD_AUDIT_MODE",
    "CALLGUARD_AUDIT_FLUSH_INTERVAL",
    "CALLGUARD_AUDIT_RETENTION",
    "CALLGUARD_MAX_BODY_BYTES",
    "CALLGUARD_LOG_LEVEL",
    "CALLGUARD_LOG_NUMBERS",
    "CALLGUARD_LOG_FORMAT",
    "CALLGUARD_REFRESH_INTERVAL",
    "CALLGUARD_ADMIN_TOKEN",
    "CALLGUARD_REGISTRY_DIR",
    "CALLGUARD_REDIS_URL",
    "CALLGUARD_REDIS_PREFIX",
    "CALLGUARD_COUNTERS_PATH",
    "CALLGUARD_REGION_NAME",
    "CALLGUARD_ALERT_WEBHOOK",
    "CALLGUARD_ADMIN_TOKENS",
    "CALLGUARD_TWILIO_SYNC_INTERVAL",
    "CALLGUARD_TWILIO_MAX_STALENESS",
    "CALLGUARD_TWILIO_BASE_URL",
    "CALLGUARD_AUTO_MIGRATE",
    "CALLGUARD_DATABASE_STALE_LIMIT",
    "CALLGUARD_ANSWER_DEADLINE",
    "CALLGUARD_DATABASE_TIMEOUT",
    "CALLGUARD_BREAKER_COOL_OFF",
    "TWILIO_AUTH_TOKEN",
)

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_NUMBERS = ("masked", "full")  # phone numbers in log records (callguard.loggers)
LOG_FORMATS = ("text", "json")  # the lines callguard serve and gunicorn wsgi:app write (callguard.runtime.log_output)
TWILIO_SYNC_INTERVAL = 300.0  # seconds between scheduled Twilio syncs
TWILIO_MAX_STALENESS = 86_400.0  # how long the last good Twilio picture keeps deciding during an outage


def config_from_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The callguard keys present in the environment."""
    environ = os.environ if environ is None else environ
    return {key: environ[key] for key in ENVIRONMENT_KEYS if key in environ}


@dataclass(frozen=True)
class Settings:
    policy_path: str
    database_url: str
    public_url: str | None
    default_auth_token: str | None
    audit_mode: str
    audit_flush_interval: float
    max_body_bytes: int
    log_level: str | None
    clock: Clock
    refresh_interval: float = 0.5
    registry_dir: str = "registries"
    redis_url: str | None = None
    redis_prefix: str = "callguard:"
    counters_path: str = "callguard-counters.db"
    region_name: str = "default"
    alert_webhook: str | None = None
    twilio_sync_interval: float = TWILIO_SYNC_INTERVAL
    twilio_max_staleness: float = TWILIO_MAX_STALENESS
    twilio_base_url: str | None = None
    sleep: Callable[[float], None] = time.sleep
    auto_migrate: bool = True
    stale_limit: float = 300.0
    log_numbers: str = "masked"
    log_format: str = "text"
    answer_deadline: float = DEFAULT_ANSWER_DEADLINE  # every webhook answers within it, whatever a dependency does
    database_timeout: float = DEFAULT_DATABASE_TIMEOUT  # the server's statement_timeout on PostgreSQL
    breaker_cool_off: float = 1.0  # how long a dependency that stopped answering is not asked
    monotonic: Callable[[], float] = time.monotonic  # the breakers' clock (config only, as tests stop it)
    audit_retention: Retention | None = parse_retention(DEFAULT_RETENTION)

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> Settings:
        policy = config.get("CALLGUARD_POLICY")
        if not policy:
            raise ConfigError(
                "not set: point it at a policy file, e.g. CALLGUARD_POLICY=examples/policy.toml "
                "(or callguard serve --policy examples/policy.toml)",
                key="CALLGUARD_POLICY",
            )
        public_url = config.get("CALLGUARD_PUBLIC_URL") or None
        if public_url is not None and not str(public_url).startswith(("http://", "https://")):
            raise ConfigError(f"{public_url!r} is not an http(s) URL", key="CALLGUARD_PUBLIC_URL")
        audit_mode = str(config.get("CALLGUARD_AUDIT_MODE", "batched"))
        if audit_mode not in ("batched", "sync"):
            raise ConfigError(f"expected 'batched' or 'sync', got {audit_mode!r}", key="CALLGUARD_AUDIT_MODE")
        clock = config.get("CALLGUARD_CLOCK", system_clock)
        if not callable(clock):
            raise ConfigError("must be a callable returning epoch seconds", key="CALLGUARD_CLOCK")
        sleep = config.get("CALLGUARD_SLEEP", time.sleep)  # config only, like the clock: tests never sleep
        if not callable(sleep):
            raise ConfigError("must be a callable taking seconds", key="CALLGUARD_SLEEP")
        monotonic = config.get("CALLGUARD_MONOTONIC", time.monotonic)
        if not callable(monotonic):
            raise ConfigError("must be a callable returning seconds", key="CALLGUARD_MONOTONIC")
        twilio_base_url = config.get("CALLGUARD_TWILIO_BASE_URL") or None
        if twilio_base_url is not None and not str(twilio_base_url).startswith(("http://", "https://")):
            raise ConfigError(f"{twilio_base_url!r} is not an http(s) URL", key="CALLGUARD_TWILIO_BASE_URL")
        database_url = str(config.get("CALLGUARD_DATABASE_URL") or default_database_url())
        log_level = str(config.get("CALLGUARD_LOG_LEVEL") or "").upper() or None
        if log_level is not None and log_level not in LOG_LEVELS:
            raise ConfigError(f"expected one of {', '.join(LOG_LEVELS)}, got {config['CALLGUARD_LOG_LEVEL']!r}", key="CALLGUARD_LOG_LEVEL")
        return cls(
            policy_path=os.fspath(policy),
            database_url=database_url,
            public_url=str(public_url).rstrip("/") if public_url else None,
            default_auth_token=config.get("TWILIO_AUTH_TOKEN") or None,
            audit_mode=audit_mode,
            audit_flush_interval=_number(config, "CALLGUARD_AUDIT_FLUSH_INTERVAL", 0.2, float, minimum=0.01),
            max_body_bytes=_number(config, "CALLGUARD_MAX_BODY_BYTES", 65_536, int, minimum=1024),
            log_level=log_level,
            clock=clock,
            refresh_interval=_number(config, "CALLGUARD_REFRESH_INTERVAL", 0.5, float, minimum=0),
            registry_dir=os.path.abspath(str(config.get("CALLGUARD_REGISTRY_DIR") or "registries")),
            redis_url=config.get("CALLGUARD_REDIS_URL") or None,
            redis_prefix=str(config.get("CALLGUARD_REDIS_PREFIX") or "callguard:"),
            counters_path=os.path.abspath(str(config.get("CALLGUARD_COUNTERS_PATH") or "callguard-counters.db")),
            region_name=str(config.get("CALLGUARD_REGION_NAME") or "default"),
            alert_webhook=config.get("CALLGUARD_ALERT_WEBHOOK") or None,
            twilio_sync_interval=_number(config, "CALLGUARD_TWILIO_SYNC_INTERVAL", TWILIO_SYNC_INTERVAL, float, minimum=0),
            twilio_max_staleness=_number(config, "CALLGUARD_TWILIO_MAX_STALENESS", TWILIO_MAX_STALENESS, float, minimum=1),
            twilio_base_url=str(twilio_base_url).rstrip("/") if twilio_base_url else None,
            sleep=sleep,
            auto_migrate=auto_migrate(config, database_url),
            stale_limit=_number(config, "CALLGUARD_DATABASE_STALE_LIMIT", 300.0, float, minimum=5),
            log_numbers=log_numbers(config),
            log_format=log_format(config),
            answer_deadline=answer_deadline(config),
            database_timeout=_number(config, "CALLGUARD_DATABASE_TIMEOUT", DEFAULT_DATABASE_TIMEOUT, float, minimum=0.5),
            breaker_cool_off=_number(config, "CALLGUARD_BREAKER_COOL_OFF", 1.0, float, minimum=0.05),
            monotonic=monotonic,
            audit_retention=audit_retention(config),
        )


def answer_deadline(config: Mapping[str, Any]) -> float:
    """``CALLGUARD_ANSWER_DEADLINE``: at least 0.1 s, and less than the 15 s after which Twilio gives up itself."""
    seconds: float = _number(config, "CALLGUARD_ANSWER_DEADLINE", DEFAULT_ANSWER_DEADLINE, float, minimum=0.1)
    if seconds >= TWILIO_WEBHOOK_SECONDS:
        problem = f"must be less than {TWILIO_WEBHOOK_SECONDS:g} s (Twilio's own webhook timeout), got {seconds:g}"
        raise ConfigError(problem, key="CALLGUARD_ANSWER_DEADLINE")
    return seconds


def log_numbers(config: Mapping[str, Any]) -> str:
    """``CALLGUARD_LOG_NUMBERS``: ``masked`` (the default) or ``full``."""
    return _choice(config, "CALLGUARD_LOG_NUMBERS", LOG_NUMBERS)


def log_format(config: Mapping[str, Any]) -> str:
    """``CALLGUARD_LOG_FORMAT``: ``text`` (the default) or ``json``."""
    return _choice(config, "CALLGUARD_LOG_FORMAT", LOG_FORMATS)


def _choice(config: Mapping[str, Any], key: str, choices: tuple[str, ...]) -> str:
    raw = config.get(key)
    if raw is None or raw == "":
        return choices[0]
    value = str(raw).lower()
    if value not in choices:
        raise ConfigError(f"expected {' or '.join(repr(choice) for choice in choices)}, got {raw!r}", key=key)
    return value


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def auto_migrate(config: Mapping[str, Any], database_url: str) -> bool:
    """Whether start-up may upgrade the database schema (``CALLGUARD_AUTO_MIGRATE``).

    By default yes on SQLite, so the embedded default runs with one command; no on PostgreSQL,
    where several hosts share the schema and upgrading it is a deployment step
    (``callguard db upgrade``): a schema behind the code stops start-up with one line instead.
    """
    raw = config.get("CALLGUARD_AUTO_MIGRATE")
    if raw is None or raw == "":
        return database_url.startswith("sqlite")
    if isinstance(raw, bool):
        return raw
    if str(raw).lower() in _TRUE:
        return True
    if str(raw).lower() in _FALSE:
        return False
    raise ConfigError(f"expected true or false, got {raw!r}", key="CALLGUARD_AUTO_MIGRATE")


def audit_retention(config: Mapping[str, Any]) -> Retention | None:
    """How long audited decisions are kept (``CALLGUARD_AUDIT_RETENTION``); None: forever.

    Five years by default: since 2024 the Telemarketing Sales Rule has sellers and telemarketers
    keep their call records for five years (16 CFR 310.5(a)). ``5y``, ``400d``, ``36h``, a number
    of seconds, or ``forever`` (:func:`callguard.retention.parse_retention`). Only decisions expire:
    opt-outs, consent records and the change log are kept whatever this says.
    """
    raw = config.get("CALLGUARD_AUDIT_RETENTION")
    try:
        return parse_retention(DEFAULT_RETENTION if raw is None or raw == "" else str(raw))
    except ValueError as exc:
        raise ConfigError(str(exc), key="CALLGUARD_AUDIT_RETENTION") from None


def _number(config: Mapping[str, Any], key: str, default: Any, kind: Callable[[Any], Any], *, minimum: float) -> Any:
    raw = config.get(key, default)
    try:
        value = kind(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"expected a number, got {raw!r}", key=key) from None
    if value < minimum:
        raise ConfigError(f"must be at least {minimum}, got {value}", key=key)
    return value
