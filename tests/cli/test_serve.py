"""``callguard serve`` refusing bad settings before it starts (callguard.cli.serve; tests/cli/test_gunicorn.py runs servers)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .invoke import run


def test_serve_refuses_a_bad_policy_before_starting(write_policy: Callable[..., Path]) -> None:
    path = write_policy("[defaults]\nreject_style = \"mumble\"\n")
    code, _, err = run("serve", "--policy", str(path), env={"TWILIO_AUTH_TOKEN": "x", "PROMETHEUS_MULTIPROC_DIR": str(path.parent / "m")})
    assert code == 2
    assert err.count("\n") == 1 and "defaults.reject_style" in err

def test_serve_refuses_a_corrupt_registry_file_before_starting(policy_path: Path, tmp_path: Path) -> None:
    registries = tmp_path / "registries"
    registries.mkdir()
    (registries / "us_ftc.cgreg").write_bytes(b"not a registry" * 100)
    code, _, err = run(
        "serve", "--policy", str(policy_path),
        env={"TWILIO_AUTH_TOKEN": "x", "TWILIO_AUTH_TOKEN_TENANT": "y", "CALLGUARD_REGISTRY_DIR": str(registries),
             "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "m")},
    )
    assert code == 2 and err == f"callguard: {registries / 'us_ftc.cgreg'}: not a callguard registry file (bad magic)\n"

def test_serve_refuses_a_missing_token(policy_path: Path) -> None:
    code, _, err = run(
        "serve", "--policy", str(policy_path),
        env={"TWILIO_AUTH_TOKEN": "", "TWILIO_AUTH_TOKEN_TENANT": "", "PROMETHEUS_MULTIPROC_DIR": str(policy_path.parent / "m")},
    )
    assert code == 2 and "auth_token_env" in err
