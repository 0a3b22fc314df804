"""Loading, validating and resolving whole policy files (callguard.policy.loader): the example,
the one-line error every section reports, and files that cannot be read."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from callguard import ConfigError, load_policy
from callguard.numbers import RiskCategory
from callguard.policy import FailMode, Permission, RejectStyle

from ..conftest import GRANDCHILD, MAIN, TENANT

A = "AC" + "a" * 32


B = "AC" + "b" * 32


def test_the_example_policy_loads() -> None:
    policy = load_policy(Path(__file__).resolve().parents[2] / "examples" / "policy.toml")
    assert len(policy.accounts) == 2
    assert policy.defaults.fail_mode is FailMode.REJECT


def test_defaults_and_accounts(policy_path: Path) -> None:
    policy = load_policy(policy_path)
    assert policy.defaults.reject_style is RejectStyle.REJECT
    main = policy.accounts[MAIN]
    assert main.name == "Main"
    assert main.caller_ids == {"+14155550100", "+14155550101"}
    assert main.default_caller_id == "+14155550100"
    assert main.outside_line_prefix == "9"
    assert main.permission("GB") == Permission(low_risk=True, high_risk_special=True)
    assert main.permission("FR") == Permission()
    assert main.sip_domains["pbx.sip.twilio.com"].default_caller_id == "+14155550101"


def test_blocked_prefixes_apply_down_the_chain(policy_path: Path) -> None:
    policy = load_policy(policy_path)
    now = 0.0
    assert policy.accounts[MAIN].blocked.match("+14155550191", now) is not None
    assert policy.accounts[MAIN].blocked.match("+493012345678", now) is None
    assert policy.accounts[TENANT].blocked.match("+493012345678", now) is not None
    assert policy.accounts[GRANDCHILD].blocked.match("+493012345678", now) is not None
    assert policy.global_blocks.match("+493012345678", now) is None


def test_risk_overrides(write_policy: Callable[..., Path]) -> None:
    path = write_policy(
        """
        [risk]
        high_risk_tollfraud = ["+44207946"]
        low_risk = ["+1876555"]
        direct_request_countries = ["SG", "CU"]
        """
    )
    policy = load_policy(path)
    assert policy.risk_table.category("+442079460000", 0) is RiskCategory.HIGH_RISK_TOLLFRAUD
    assert policy.risk_table.category("+18765550100", 1) is RiskCategory.LOW_RISK
    assert policy.risk_table.category("+18764440100", 1) is RiskCategory.HIGH_RISK_TOLLFRAUD
    assert policy.direct_request_countries == {"SG", "CU"}


def test_an_empty_policy_is_valid_and_knows_no_accounts(write_policy: Callable[..., Path]) -> None:
    policy = load_policy(write_policy(""))
    assert policy.accounts == {} and policy.defaults.fail_mode is FailMode.REJECT


@pytest.mark.parametrize(
    "text, key, fragment",
    [
        ("[defaults]\nfail_mode = \"open\"\n", "defaults.fail_mode", "expected one of 'reject', 'connect'"),
        ("[defaults]\nreject_styl = \"reject\"\n", "defaults.reject_styl", "did you mean 'reject_style'"),
        ("[default]\n", "default", "did you mean 'defaults'"),
        ("[defaults]\ndefault_region = \"UK\"\n", "defaults.default_region", "did you mean 'GB'"),
        ("[accounts.ACnothex]\n", "accounts.ACnothex", "not an Account SID"),
        (f"[accounts.{A}]\nsuspendd = true\n", f"accounts.{A}.suspendd", "did you mean 'suspended'"),
        (f"[accounts.{A}]\nsuspended = \"yes\"\n", f"accounts.{A}.suspended", "expected true or false, got 'yes'"),
        (f"[accounts.{A}]\ncaller_ids = [\"+1 415 555 0100\"]\n", f"accounts.{A}.caller_ids[0]", "write '+14155550100'"),
        (f"[accounts.{A}]\ncaller_ids = [\"+1415555\"]\n", f"accounts.{A}.caller_ids[0]", "not a valid phone number"),
        (f"[accounts.{A}]\ncaller_ids = \"+14155550100\"\n", f"accounts.{A}.caller_ids", "expected an array of strings"),
        (
            f"[accounts.{A}]\ncaller_ids = [\"+14155550100\"]\ndefault_caller_id = \"+14155550101\"\n",
            f"accounts.{A}.default_caller_id",
            "not among this account's caller_ids",
        ),
        (f"[accounts.{A}]\nparent = \"{B}\"\n", f"accounts.{A}.parent", "not an account in this policy"),
        (f"[accounts.{A}]\nparent = \"{A}\"\n", f"accounts.{A}.parent", "its own parent"),
        (
            f"[accounts.{A}]\nparent = \"{B}\"\n[accounts.{B}]\nparent = \"{A}\"\n",
            f"accounts.{A}.parent",
            "cycle",
        ),
        (f"[accounts.{A}]\nauth_token_env = \"NOT-A-NAME\"\n", f"accounts.{A}.auth_token_env", "environment variable name"),
        (f"[accounts.{A}]\noutside_line_prefix = \"nine\"\n", f"accounts.{A}.outside_line_prefix", "1 to 4 digits"),
        (f"[accounts.{A}.permissions]\nUK = {{ low_risk = true }}\n", f"accounts.{A}.permissions.UK", "did you mean 'GB'"),
        (
            f"[accounts.{A}.permissions]\nGB = {{ high_risk_special = true }}\n",
            f"accounts.{A}.permissions.GB.high_risk_special",
            "needs low_risk = true",
        ),
        (f"[accounts.{A}.permissions]\nGB = {{ low = true }}\n", f"accounts.{A}.permissions.GB.low", "did you mean 'low_risk'"),
        (
            f"[accounts.{A}.sip_domains.\"pbx.sip.twilio.com\"]\ndefault_caller_id = \"+14155550100\"\n",
            f'accounts.{A}.sip_domains."pbx.sip.twilio.com".default_caller_id',
            "not among this account's caller_ids",
        ),
        ("[[blocked_prefixes]]\nreason = \"x\"\n", "blocked_prefixes[0].prefix", "missing"),
        ("[[blocked_prefixes]]\nprefix = \"2474\"\n", "blocked_prefixes[0].prefix", "not an E.164 prefix"),
        ("[[blocked_prefixes]]\nprefix = \"+0474\"\n", "blocked_prefixes[0].prefix", "no country calling code starts with 0"),
        (
            "[[blocked_prefixes]]\nprefix = \"+2474\"\nexpires = 2027-01-01T00:00:00\n",
            "blocked_prefixes[0].expires",
            "no UTC offset",
        ),
        (
            "[[blocked_prefixes]]\nprefix = \"+2474\"\nexpires = \"next year\"\n",
            "blocked_prefixes[0].expires",
            "expected a TOML date-time",
        ),
        (f"[[blocked_prefixes]]\nprefix = \"+2474\"\naccount = \"{B}\"\n", "blocked_prefixes[0].account", "not an account"),
        ("[risk]\nhigh_risk_tollfraud = [\"+371\"]\nlow_risk = [\"+371\"]\n", "risk.high_risk_tollfraud[0]", "also listed under low_risk"),
        ("blocked_prefixes = \"+2474\"\n", "blocked_prefixes", "array of tables"),
    ],
)
def test_errors_name_the_file_the_key_and_the_problem(
    write_policy: Callable[..., Path], text: str, key: str, fragment: str
) -> None:
    path = write_policy(text)
    with pytest.raises(ConfigError) as caught:
        load_policy(path)
    error = caught.value
    assert error.source == str(path)
    assert error.key == key
    assert fragment in error.problem
    message = str(error)
    assert message.startswith(f"{path}: {key}: ")
    assert "\n" not in message


def test_toml_syntax_errors_give_the_line(write_policy: Callable[..., Path]) -> None:
    path = write_policy("[defaults]\nfail_mode = \"reject\"\nreject_style = reject\n")
    with pytest.raises(ConfigError) as caught:
        load_policy(path)
    assert caught.value.line == 3
    assert str(caught.value).startswith(f"{path}:3: TOML syntax error")


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the policy file"):
        load_policy(tmp_path / "missing.toml")
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"[defaults]\n\xff\xfe\n")
    with pytest.raises(ConfigError, match="not UTF-8") as caught:
        load_policy(binary)
    assert caught.value.line == 2
