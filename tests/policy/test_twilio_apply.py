"""Laying Twilio's picture over the policy (callguard.policy.twilio_apply): pure, no Twilio, no database."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from callguard import Action, DialRequest, FakeClock, Guard, load_policy
from callguard.numbers.risk import RiskCategory
from callguard.policy import Permission, Policy, TwilioMode
from callguard.policy.twilio_apply import apply_twilio, twilio_permissions
from callguard.policy.twilio_snapshot import TwilioAccount, TwilioCountry, TwilioSnapshot

from ..conftest import MAIN, MANCHESTER_DRAMA, SYNC_POLICY, TENANT

DAY = 86_400.0
US = TwilioCountry("US", ("+1",), True, False, False)
GB = TwilioCountry("GB", ("+44",), True, False, False)
GB_ALL = TwilioCountry("GB", ("+44",), True, True, True)
DE_CLOSED = TwilioCountry("DE", ("+49",), False, False, False)
FR = TwilioCountry("FR", ("+33",), True, False, False)
SG = TwilioCountry("SG", ("+65",), True, False, False)
IRIDIUM = TwilioCountry("XS", ("+8816",), True, False, False)  # not an ISO region: keyed by its code


def snapshot(clock: FakeClock, **accounts: TwilioAccount) -> TwilioSnapshot:
    return TwilioSnapshot(1, {a.sid: a for a in accounts.values()}, {MANCHESTER_DRAMA: "GB"})


def main_picture(clock: FakeClock, **changes: object) -> TwilioAccount:
    fields: dict[str, object] = {
        "sid": MAIN, "owner_account_sid": MAIN, "friendly_name": "Main", "status": "active", "synced_at": clock(),
        "incoming_numbers": frozenset({"+14155550100"}), "verified_caller_ids": frozenset({"+12025550123"}),
        "countries": (US, GB, DE_CLOSED, SG, FR),
    }
    return TwilioAccount(**{**fields, **changes})  # type: ignore[arg-type]


def tenant_picture(clock: FakeClock, **changes: object) -> TwilioAccount:
    fields: dict[str, object] = {
        "sid": TENANT, "owner_account_sid": MAIN, "friendly_name": "Tenant", "status": "active", "synced_at": clock(),
        "incoming_numbers": frozenset({"+442079460000", "+442079460009"}),
        "countries": (GB_ALL, TwilioCountry("DE", ("+49",), True, False, False), TwilioCountry("FR", ("+33",), False, False, False)),
    }
    return TwilioAccount(**{**fields, **changes})  # type: ignore[arg-type]


def sync_policy(write_policy: Callable[[str, str], Path]) -> Policy:
    return load_policy(write_policy(SYNC_POLICY, "sync.toml"))


def decide(
    policy: Policy, clock: FakeClock, to: str, *, account: str = MAIN, from_: str | None = "+14155550100"
) -> tuple[Action, tuple[str, ...]]:
    decision = Guard(policy, clock=clock).check(DialRequest(account, to, from_=from_))
    return decision.action, decision.reasons


def test_the_policy_declares_modes_and_subaccounts_inherit_them(write_policy: Callable[..., Path]) -> None:
    policy = sync_policy(write_policy)
    assert policy.accounts[MAIN].twilio_mode is TwilioMode.MIRROR and policy.accounts[TENANT].twilio_mode is TwilioMode.STRICTER


def test_twilio_country_entries_become_permissions_keyed_as_the_geo_check_looks_them_up() -> None:
    permissions = twilio_permissions((US, GB_ALL, DE_CLOSED, IRIDIUM, TwilioCountry("JM", ("+1876",), False, False, False)))
    assert permissions["US"] == Permission(low_risk=True, direct_request=True)
    assert permissions["CA"] == permissions["US"]  # Canada is inside Twilio's "United States/Canada" (+1)
    assert permissions["JM"] == Permission()  # its own entry wins over the +1 one
    assert permissions["GB"] == Permission(True, True, True, True)
    assert permissions["DE"] == Permission()
    assert permissions["+881"] == Permission(low_risk=True, direct_request=True)  # non-geographic numbers by calling code
    assert "FR" not in permissions  # a country Twilio does not list is closed


def test_mirror_takes_permissions_and_caller_ids_from_twilio(write_policy: Callable[..., Path], clock: FakeClock) -> None:
    policy = apply_twilio(sync_policy(write_policy), snapshot(clock, main=main_picture(clock)), max_staleness=DAY)
    main = policy.accounts[MAIN]
    assert main.caller_ids == {"+14155550100", "+12025550123"}
    assert decide(policy, clock, "+14155550123") == (Action.CONNECT, ("ok",))
    assert decide(policy, clock, "+14165550123") == (Action.CONNECT, ("ok",))  # Canada
    assert decide(policy, clock, "+4915112345678") == (Action.REJECT, ("geo.low_risk",))  # Twilio closes Germany
    assert decide(policy, clock, "+6561234567") == (Action.CONNECT, ("ok",))  # Twilio opened Singapore: granted on request
    assert decide(policy, clock, "+14155550123", from_="+12025550123") == (Action.CONNECT, ("ok",))  # a verified caller ID
    assert decide(policy, clock, "+14155550123", from_="+14155550188") == (Action.REJECT, ("callerid.not_owned",))


def test_stricter_allows_only_what_both_allow(write_policy: Callable[..., Path], clock: FakeClock) -> None:
    pictures = snapshot(clock, main=main_picture(clock), tenant=tenant_picture(clock))
    policy = apply_twilio(sync_policy(write_policy), pictures, max_staleness=DAY)
    tenant = policy.accounts[TENANT]
    # Declared +442079460001 is not Twilio's; Twilio's +442079460009 is not declared: only the one in both.
    assert tenant.caller_ids == {"+442079460000"}
    assert tenant.permissions["GB"] == Permission(True, True, False, False)  # the policy does not allow toll fraud
    assert decide(policy, clock, "+4915112345678", account=TENANT, from_="+442079460000") == (Action.CONNECT, ("ok",))
    # Twilio closes France.
    assert decide(policy, clock, "+33612345678", account=TENANT, from_="+442079460000") == (Action.REJECT, ("geo.low_risk",))
    # The policy never opened the US.
    assert decide(policy, clock, "+14155550123", account=TENANT, from_="+442079460000") == (Action.REJECT, ("geo.low_risk",))
    assert decide(policy, clock, "+4915112345678", account=TENANT, from_="+442079460001") == (Action.REJECT, ("callerid.not_owned",))


def test_a_subaccount_that_inherits_takes_its_parents_twilio_permissions(write_policy: Callable[..., Path], clock: FakeClock) -> None:
    tenant = tenant_picture(clock, inherits_permissions=True, countries=None)
    policy = apply_twilio(sync_policy(write_policy), snapshot(clock, main=main_picture(clock), tenant=tenant), max_staleness=DAY)
    assert policy.accounts[TENANT].permissions["GB"] == Permission(low_risk=True)
    assert policy.accounts[TENANT].permissions["DE"] == Permission()  # the parent's Twilio closes it


def test_an_account_twilio_suspends_is_suspended_with_its_subaccounts(write_policy: Callable[..., Path], clock: FakeClock) -> None:
    pictures = snapshot(clock, main=main_picture(clock, status="suspended"), tenant=tenant_picture(clock))
    policy = apply_twilio(sync_policy(write_policy), pictures, max_staleness=DAY)
    assert decide(policy, clock, "+14155550123") == (Action.REJECT, ("account.suspended",))
    assert policy.accounts[TENANT].suspended_by == MAIN
    assert policy.accounts[TENANT].suspension_reason == f"Twilio reports account {MAIN} as suspended"


def test_twilio_high_risk_special_prefixes_classify_numbers_for_every_account(write_policy: Callable[..., Path], clock: FakeClock) -> None:
    base = sync_policy(write_policy)
    policy = apply_twilio(base, snapshot(clock, main=main_picture(clock)), max_staleness=DAY)
    assert base.risk_table.category("+441614960000", 0) is RiskCategory.LOW_RISK
    assert policy.risk_table.category("+441614960000", 0) is RiskCategory.HIGH_RISK_SPECIAL
    assert decide(policy, clock, "+441614960000") == (Action.REJECT, ("geo.high_risk_special",))  # Twilio: GB special closed
    assert decide(policy, clock, "+442079460123") == (Action.CONNECT, ("ok",))


def test_twilio_special_prefixes_win_over_a_narrower_low_risk_entry(write_policy: Callable[..., Path], clock: FakeClock) -> None:
    text = SYNC_POLICY.replace("[defaults]", '[risk]\nlow_risk = ["+441614960"]\n\n[defaults]')
    policy = apply_twilio(load_policy(write_policy(text, "p.toml")), snapshot(clock, main=main_picture(clock)), max_staleness=DAY)
    assert policy.risk_table.category("+441614960000", 0) is RiskCategory.HIGH_RISK_SPECIAL


def test_a_synced_account_carries_when_its_picture_goes_stale(write_policy: Callable[..., Path], clock: FakeClock) -> None:
    base = sync_policy(write_policy)
    assert base.accounts[MAIN].twilio_synced_at is None  # never synced: the twilio check decides by the fail mode
    policy = apply_twilio(base, snapshot(clock, main=main_picture(clock, synced_at=clock() - 60)), max_staleness=DAY)
    assert (policy.accounts[MAIN].twilio_synced_at, policy.accounts[MAIN].twilio_stale_at) == (clock() - 60, clock() - 60 + DAY)
    assert policy.accounts[TENANT].twilio_synced_at is None  # no picture of it in the snapshot


def test_accounts_not_synced_are_left_alone(policy: Policy, clock: FakeClock) -> None:
    assert apply_twilio(policy, TwilioSnapshot(), max_staleness=DAY) is policy


_flags = st.tuples(st.booleans(), st.booleans(), st.booleans())


@given(
    twilio=st.dictionaries(st.sampled_from(["US", "GB", "DE", "FR"]), _flags),
    declared=st.dictionaries(st.sampled_from(["GB", "DE", "FR"]), _flags),
)
def test_callguard_never_allows_what_twilio_forbids(
    twilio: dict[str, tuple[bool, bool, bool]], declared: dict[str, tuple[bool, bool, bool]]
) -> None:
    from callguard.policy import parse_policy

    codes = {"US": "+1", "GB": "+44", "DE": "+49", "FR": "+33"}
    countries = tuple(TwilioCountry(iso, (codes[iso],), *flags) for iso, flags in twilio.items())
    data = {
        "accounts": {
            MAIN: {"twilio": "mirror"},
            TENANT: {
                "parent": MAIN, "twilio": "stricter",
                "permissions": {
                    iso: {"low_risk": True, "high_risk_special": s, "high_risk_tollfraud": t} for iso, (_, s, t) in declared.items()
                },
            },
        }
    }
    picture = {sid: TwilioAccount(sid, MAIN, None, "active", synced_at=0.0, countries=countries) for sid in (MAIN, TENANT)}
    policy = apply_twilio(parse_policy(data), TwilioSnapshot(1, picture), max_staleness=DAY)
    twilio_view = twilio_permissions(countries)
    for sid in (MAIN, TENANT):
        for key, permission in policy.accounts[sid].permissions.items():
            for category in RiskCategory:
                if permission.allows(category):
                    assert twilio_view[key].allows(category), (sid, key, category)
                    if sid == TENANT:
                        assert key in declared and parse_policy(data).accounts[TENANT].permissions[key].allows(category)
