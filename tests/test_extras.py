"""A plain install, without any extra: every entry point works, and a setting that needs an extra
says which in one line (callguard.extras)."""

from __future__ import annotations

from pathlib import Path

import pytest

from callguard.errors import ConfigError, MissingExtra
from callguard.extras import extra_needed

from .conftest import MAIN_TOKEN, TENANT_TOKEN
from .without_extras import cli_without_extras, run_without_extras


def test_a_missing_package_of_the_extra_names_the_extra_and_the_setting() -> None:
    with pytest.raises(MissingExtra) as raised:
        with extra_needed("redis", setting="CALLGUARD_REDIS_URL"):
            raise ModuleNotFoundError("No module named 'redis.connection'", name="redis.connection")
    error = raised.value
    assert isinstance(error, ConfigError)
    assert (error.extra, error.package, error.key) == ("redis", "redis", "CALLGUARD_REDIS_URL")
    assert str(error) == "CALLGUARD_REDIS_URL: needs the redis extra (redis is not installed): pip install 'callguard-voice[redis]'"


def test_any_other_import_error_goes_through() -> None:
    with pytest.raises(ModuleNotFoundError, match="numpy"):
        with extra_needed("redis", setting="CALLGUARD_REDIS_URL"):
            raise ModuleNotFoundError("No module named 'numpy'", name="numpy")


def test_every_entry_point_imports_without_extras() -> None:
    result = run_without_extras(
        """
        import callguard
        from callguard import CallGuard, Guard, GuardMiddleware, GuardedClient, create_app, parse_policy
        import callguard.cli, callguard.web, callguard.cli.gunicorn_conf, twiml
        assert "redis" not in sys.modules and "psycopg" not in sys.modules
        print("ok")
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "ok\n"
    assert cli_without_extras("--help").returncode == 0


def test_the_embedded_default_serves_a_signed_call_without_extras(policy_path: Path, tmp_path: Path) -> None:
    result = run_without_extras(
        f"""
        from twilio.request_validator import RequestValidator
        from callguard import create_app
        app = create_app({{
            "CALLGUARD_POLICY": {str(policy_path)!r}, "CALLGUARD_DATABASE_URL": "sqlite:///{tmp_path / 'cg.db'}",
            "CALLGUARD_COUNTERS_PATH": {str(tmp_path / 'counters.db')!r}, "CALLGUARD_AUDIT_MODE": "sync",
            "TWILIO_AUTH_TOKEN": {MAIN_TOKEN!r}, "TWILIO_AUTH_TOKEN_TENANT": {TENANT_TOKEN!r},
        }})
        params = {{
            "AccountSid": "AC00000000000000000000000000000001", "CallSid": "CA" + "0" * 32,
            "From": "+14155550100", "To": "+14155550123",
        }}
        url = "http://localhost/voice/outbound"
        signature = RequestValidator({MAIN_TOKEN!r}).compute_signature(url, params)
        response = app.test_client().post(url, data=params, headers={{"X-Twilio-Signature": signature}})
        print(response.status_code, response.headers["X-Callguard-Decision"])
        app.extensions["callguard"].close()
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "200 connect; reasons=ok\n"


def test_serve_with_redis_but_no_redis_extra_is_one_line(policy_path: Path, tmp_path: Path) -> None:
    result = cli_without_extras(
        "serve", "--policy", str(policy_path), "--bind", "127.0.0.1:0",
        env={"TWILIO_AUTH_TOKEN": MAIN_TOKEN, "TWILIO_AUTH_TOKEN_TENANT": TENANT_TOKEN, "CALLGUARD_REDIS_URL": "redis://127.0.0.1:6379/0",
             "CALLGUARD_DATABASE_URL": f"sqlite:///{tmp_path / 'cg.db'}", "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics")},
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert result.stderr == (
        "callguard: CALLGUARD_REDIS_URL: needs the redis extra (redis is not installed): pip install 'callguard-voice[redis]'\n"
    )


def test_postgresql_without_the_postgres_extra_is_one_line(tmp_path: Path) -> None:
    result = cli_without_extras("db", "upgrade", "--database-url", "postgresql://postgres@127.0.0.1:5432/test", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == (
        "callguard: CALLGUARD_DATABASE_URL: needs the postgres extra (psycopg is not installed): pip install 'callguard-voice[postgres]'\n"
    )
