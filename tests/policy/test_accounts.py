"""Accounts in the policy and their inheritance (callguard.policy.accounts): permissions, caller
IDs, suspension, Twilio modes and SIP Domains coming down the parent chain."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from callguard import ConfigError, load_policy
from callguard.policy import Permission

from ..conftest import GRANDCHILD, MAIN, SUSPENDED, TENANT

A = "AC" + "a" * 32


B = "AC" + "b" * 32


C = "AC" + "c" * 32


def test_subaccounts_inherit_and_override(policy_path: Path) -> None:
    policy = load_policy(policy_path)
    tenant = policy.accounts[TENANT]
    assert tenant.lineage == (TENANT, MAIN)
    # Permissions: inherited country by country; an own entry replaces the parent's entry.
    assert tenant.permission("US").low_risk
    assert tenant.permission("DE").low_risk
    assert tenant.permission("GB") == Permission(low_risk=True)
    # Caller IDs: its own plus its parents'; the default is its own first one.
    assert tenant.caller_ids == {"+442079460000", "+14155550100", "+14155550101"}
    assert tenant.default_caller_id == "+442079460000"
    # Regions, prefixes and trunks come down the chain.
    assert tenant.default_region == "US" and tenant.outside_line_prefix == "9"
    assert "pbx.sip.twilio.com" in tenant.sip_domains
    grandchild = policy.accounts[GRANDCHILD]
    assert grandchild.lineage == (GRANDCHILD, TENANT, MAIN)
    assert grandchild.permission("DE").low_risk and grandchild.permission("US").low_risk
    assert grandchild.default_caller_id == "+442079460000"


def test_suspension_is_inherited_and_cannot_be_lifted_by_a_child(write_policy: Callable[..., Path]) -> None:
    path = write_policy(
        f"""
        [accounts.{A}]
        suspended = true
        suspended_reason = "chargeback"
        [accounts.{B}]
        parent = "{A}"
        suspended = false
        [accounts.{C}]
        parent = "{B}"
        """
    )
    policy = load_policy(path)
    for sid in (A, B, C):
        account = policy.accounts[sid]
        assert account.suspended and account.suspended_by == A and account.suspension_reason == "chargeback"


def test_inheritance_can_be_switched_off(write_policy: Callable[..., Path]) -> None:
    path = write_policy(
        f"""
        [accounts.{A}]
        caller_ids = ["+14155550100"]
        permissions.US = {{ low_risk = true }}
        [accounts.{B}]
        parent = "{A}"
        inherit_permissions = false
        inherit_caller_ids = false
        caller_ids = ["+14155550101"]
        permissions.CA = {{ low_risk = true }}
        """
    )
    b = load_policy(path).accounts[B]
    assert b.caller_ids == {"+14155550101"}
    assert not b.permission("US").low_risk and b.permission("CA").low_risk


def test_suspended_fixture_account(policy_path: Path) -> None:
    account = load_policy(policy_path).accounts[SUSPENDED]
    assert account.suspended and account.suspension_reason == "unpaid invoice"


def test_twilio_modes_come_down_the_chain_and_credentials_come_in_pairs(write_policy: Callable[..., Path]) -> None:
    from callguard.policy import TwilioMode

    policy = load_policy(
        write_policy(
            f"""
            [accounts.{A}]
            twilio = "stricter"
            twilio_api_key_env = "TWILIO_API_KEY"
            twilio_api_secret_env = "TWILIO_API_SECRET"
            [accounts.{B}]
            parent = "{A}"
            [accounts.{C}]
            parent = "{B}"
            twilio = "off"
            """
        )
    )
    a, b, c = (policy.accounts[sid] for sid in (A, B, C))
    assert (a.twilio_mode, b.twilio_mode, c.twilio_mode) == (TwilioMode.STRICTER, TwilioMode.STRICTER, TwilioMode.OFF)
    assert (a.twilio_api_key_env, a.twilio_api_secret_env) == ("TWILIO_API_KEY", "TWILIO_API_SECRET")
    assert b.twilio_api_key_env is None  # credentials are each account's own
    assert load_policy(write_policy(f"[accounts.{A}]\n")).accounts[A].twilio_mode is TwilioMode.OFF


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ('twilio = "mirrror"', f"accounts.{A}.twilio: expected one of 'off', 'mirror', 'stricter', got 'mirrror'"),
        ('twilio = true', f"accounts.{A}.twilio: expected one of 'off', 'mirror', 'stricter', got true"),
        (
            'twilio_api_key_env = "KEY"',
            f"accounts.{A}.twilio_api_secret_env: missing: an API key needs both twilio_api_key_env and twilio_api_secret_env",
        ),
        ('twilio_api_secret_env = "not a name"', f"accounts.{A}.twilio_api_secret_env: 'not a name' is not an environment variable name"),
    ],
)
def test_bad_twilio_settings_are_one_line(write_policy: Callable[..., Path], lines: str, message: str) -> None:
    path = write_policy(f"[accounts.{A}]\n{lines}\n")
    with pytest.raises(ConfigError) as caught:
        load_policy(path)
    assert str(caught.value) == f"{path}: {message}"


def test_sip_domain_extension_digits(write_policy: Callable[..., Path]) -> None:
    domains = f"[accounts.{A}.sip_domains]\n"
    domains += '"one.sip.twilio.com" = { extension_digits = "4" }\n'
    domains += '"range.sip.twilio.com" = { extension_digits = "3-10" }\n'
    domains += '"off.sip.twilio.com" = { extension_digits = false }\n'
    domains += '"plain.sip.twilio.com" = { default_region = "GB" }\n'
    policy = load_policy(write_policy(f"[accounts.{A}]\n[accounts.{B}]\nparent = \"{A}\"\n{domains}"))
    trunks = policy.accounts[A].sip_domains
    assert trunks["one.sip.twilio.com"].extension_digits == (4, 4)
    assert trunks["range.sip.twilio.com"].extension_digits == (3, 10)
    assert trunks["off.sip.twilio.com"].extension_digits is None
    assert trunks["plain.sip.twilio.com"].extension_digits == (2, 6)  # the default
    assert policy.accounts[B].sip_domains["off.sip.twilio.com"].extension_digits is None  # inherited with the trunk


DOMAIN_KEY = f'accounts.{A}.sip_domains."pbx.sip.twilio.com"'


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('"abc"', "'abc' is not a number of digits such as \"4\" or \"2-6\""),
        ('"2 - 6"', "'2 - 6' is not a number of digits such as \"4\" or \"2-6\""),
        ("true", 'expected a number of digits such as "4" or "2-6", or false, got true'),
        ("4", 'expected a number of digits such as "4" or "2-6", or false, got 4'),
        ('"0-4"', "'0-4': an extension has 1 to 15 digits"),
        ('"3-16"', "'3-16': an extension has 1 to 15 digits"),
        ('"7-3"', "'7-3': the shorter length comes first (3-7)"),
    ],
)
def test_bad_extension_digits_are_one_line(write_policy: Callable[..., Path], value: str, message: str) -> None:
    path = write_policy(f'[accounts.{A}.sip_domains."pbx.sip.twilio.com"]\nextension_digits = {value}\n')
    with pytest.raises(ConfigError) as caught:
        load_policy(path)
    assert str(caught.value) == f"{path}: {DOMAIN_KEY}.extension_digits: {message}"


def test_a_misspelt_extension_digits_is_named(write_policy: Callable[..., Path]) -> None:
    path = write_policy(f'[accounts.{A}.sip_domains."pbx.sip.twilio.com"]\nextension_digit = "3"\n')
    with pytest.raises(ConfigError) as caught:
        load_policy(path)
    assert str(caught.value) == f"{path}: {DOMAIN_KEY}.extension_digit: unknown key (did you mean 'extension_digits'?)"
