"""One exit-status rule for every command (callguard.cli.errors): 2 for bad input, 1 for a failure."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from callguard.cli.errors import BadUsage, Failed, as_command_error
from callguard.errors import ConfigError, StoreUnavailable

from ..conftest import free_port
from .invoke import run


def test_callguards_own_errors_follow_the_rule() -> None:
    assert isinstance(as_command_error(ConfigError("bad", key="CALLGUARD_X")), BadUsage)
    failure = as_command_error(StoreUnavailable("refused", backend="redis", operation="counters batch"))
    assert isinstance(failure, Failed) and failure.exit_code == 1 and failure.format_message() == "redis (counters batch): refused"


def test_a_store_failing_during_a_command_is_one_line_and_exit_status_1(policy_path: Path) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    code, out, err = run("report", "traffic", "--policy", str(policy_path), "--redis-url", url)
    assert (code, out) == (1, "")
    assert err.startswith("callguard: redis (") and err.count("\n") == 1


def test_a_bad_policy_is_bad_input_for_every_command(write_policy: Callable[..., Path], sqlite_url: str) -> None:
    path = write_policy("[defaults]\nfail_mode = 1\n")
    message = f"callguard: {path}: defaults.fail_mode: expected one of 'reject', 'connect', got 1\n"
    for args in (("optout", "list"), ("block", "list"), ("report", "traffic"), ("suspend", "AC" + "1" * 32, "--reason", "x")):
        code, out, err = run(*args, "--policy", str(path), *(("--database-url", sqlite_url) if args[0] != "report" else ()))
        assert (code, out, err) == (2, "", message), args
