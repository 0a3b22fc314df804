"""``callguard policy validate`` (callguard.cli.policy)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..conftest import MAIN
from .invoke import run


def test_policy_validate_ok(policy_path: Path) -> None:
    code, out, _ = run("policy", "validate", str(policy_path))
    assert code == 0
    assert out.strip() == f"{policy_path}: ok (4 accounts, 2 of them subaccounts; 2 blocked prefixes)"


def test_policy_validate_names_the_key(write_policy: Callable[..., Path]) -> None:
    path = write_policy(f"[accounts.{MAIN}.permissions]\nUK = {{ low_risk = true }}\n")
    code, out, err = run("policy", "validate", str(path))
    assert code == 1 and out == ""
    assert err == f"callguard: {path}: accounts.{MAIN}.permissions.UK: 'UK' is not a region phonenumbers knows (did you mean 'GB'?)\n"


def test_policy_validate_checks_contact_limits(write_policy: Callable[..., Path]) -> None:
    path = write_policy('[contact_limits.countries.DE]\nmax_calls = 3\nwithin = "60d"\nlaw = "UWG 7"\n')
    code, out, err = run("policy", "validate", str(path))
    assert code == 1 and out == ""
    assert err == f"callguard: {path}: contact_limits.countries.DE.within: calls are counted over at most 31 days, got '60d'\n"
