"""Loading, validating and resolving policy files (callguard.policy.loader)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest

from callguard import ConfigError, load_policy
from callguard.numbers import RiskCategory
from callguard.policy import FailMode, Permission, RejectStyle

from ..conftest import GRANDCHILD, MAIN, SUSPENDED, TENANT

A = "AC" + "a" * 32
B = "AC" + "b" * 32
C = "AC" + "c" * 32


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


def test_blocked_prefixes_apply_down_the_chain(policy_path: Path) -> None:
    policy = load_policy(policy_path)
    now = 0.0
    assert policy.accounts[MAIN].blocked.match("+14155550191", now) is not None
    assert policy.accounts[MAIN].blocked.match("+493012345678", now) is None
    assert policy.accounts[TENANT].blocked.match("+493012345678", now) is not None
    assert policy.accounts[GRANDCHILD].blocked.match("+493012345678", now) is not None
    assert policy.global_blocks.match("+493012345678", now) is None


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


def test_proxy_routes(write_policy: Callable[..., Path]) -> None:
    policy = load_policy(
        write_policy(
            """
            [campaigns.spring]
            purpose = "informational"
            [proxy]
            connect_timeout = 1.5
            [[proxy.routes]]
            path = "/voice/sales"
            upstream = "https://app.internal.example/twilio/voice"
            campaign = "spring"
            [[proxy.routes]]
            path = "/ivr/"
            upstream = "http://10.0.0.7:8080/ivr/"
            read_timeout = 4
            [[proxy.routes]]
            path = "/ivr/deep/"
            upstream = "http://10.0.0.8/"
            """
        )
    )
    sales = policy.proxy.match("/voice/sales")
    assert sales is not None and (sales.campaign, sales.connect_timeout, sales.read_timeout) == ("spring", 1.5, 8.0)
    assert sales.upstream_url("/voice/sales") == "https://app.internal.example/twilio/voice"
    ivr = policy.proxy.match("/ivr/menu/2")
    assert ivr is not None and ivr.upstream_url("/ivr/menu/2") == "http://10.0.0.7:8080/ivr/menu/2" and ivr.read_timeout == 4.0
    deep = policy.proxy.match("/ivr/deep/x")  # the longest prefix wins
    assert deep is not None and deep.upstream_url("/ivr/deep/x") == "http://10.0.0.8/x"
    assert policy.proxy.match("/voice/sales/") is None and policy.proxy.match("/ivr") is None


@pytest.mark.parametrize(
    "text, key, fragment",
    [
        ('[proxy]\ntimeout = 3\n', "proxy.timeout", "did you mean 'read_timeout'"),
        ('[proxy]\nread_timeout = 0\n', "proxy.read_timeout", "above 0 and at most 15"),
        ('[proxy]\nroutes = "x"\n', "proxy.routes", "array of tables"),
        ('[[proxy.routes]]\nupstream = "https://a.example/v"\n', "proxy.routes[0].path", "missing"),
        ('[[proxy.routes]]\npath = "voice"\nupstream = "https://a.example/v"\n', "proxy.routes[0].path", "not a URL path"),
        ('[[proxy.routes]]\npath = "/voice/outbound"\nupstream = "https://a.example/v"\n', "proxy.routes[0].path", "callguard's own /voice/outbound"),
        ('[[proxy.routes]]\npath = "/voice/"\nupstream = "https://a.example/"\n', "proxy.routes[0].path", "callguard's own /voice/outbound"),
        ('[[proxy.routes]]\npath = "/v1/calls"\nupstream = "https://a.example/v"\n', "proxy.routes[0].path", "callguard's own /v1/"),
        ('[[proxy.routes]]\npath = "/a"\n', "proxy.routes[0].upstream", "missing"),
        ('[[proxy.routes]]\npath = "/a"\nupstream = "a.example/v"\n', "proxy.routes[0].upstream", "absolute http(s) URL"),
        ('[[proxy.routes]]\npath = "/a"\nupstream = "https://a.example/v?x=1"\n', "proxy.routes[0].upstream", "query or fragment"),
        ('[[proxy.routes]]\npath = "/a/"\nupstream = "https://a.example/v"\n', "proxy.routes[0].upstream", "must end with '/'"),
        ('[[proxy.routes]]\npath = "/a"\nupstream = "https://a.example/v"\ncampaign = "x"\n', "proxy.routes[0].campaign", "not a campaign"),
        ('[[proxy.routes]]\npath = "/a"\nupstream = "https://a.example/v"\nread_timeout = 13.5\nconnect_timeout = 2\n', "proxy.routes[0].read_timeout", "Twilio gives up after 15 s"),
        ('[[proxy.routes]]\npath = "/a"\nupstream = "https://a.example/v"\n[[proxy.routes]]\npath = "/a"\nupstream = "https://b.example/v"\n', "proxy.routes[1].path", "routed twice"),
        ('[[proxy.routes]]\npath = "/a"\nupstream = "https://a.example/v"\nupstrem = "x"\n', "proxy.routes[0].upstrem", "did you mean 'upstream'"),
    ],
)
def test_proxy_route_errors_name_the_key(write_policy: Callable[..., Path], text: str, key: str, fragment: str) -> None:
    path = write_policy(text)
    with pytest.raises(ConfigError) as caught:
        load_policy(path)
    assert caught.value.key == key and fragment in caught.value.problem
    assert str(caught.value).startswith(f"{path}: {key}: ")


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
