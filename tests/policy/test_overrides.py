"""Runtime suspensions and blocks laid over the policy (callguard.policy.overrides)."""

from __future__ import annotations

from callguard import Action, DialRequest, Guard
from callguard.policy import BlockedPrefix, Policy
from callguard.policy.overrides import AccountOverride, Overrides, apply_overrides

from ..conftest import GRANDCHILD, MAIN, SUSPENDED, TENANT


def test_no_overrides_is_the_same_policy(policy: Policy) -> None:
    assert apply_overrides(policy, Overrides()) is policy


def test_a_runtime_suspension_binds_the_subaccounts(policy: Policy) -> None:
    changed = apply_overrides(policy, Overrides(1, {TENANT: AccountOverride(True, "chargeback")}))
    assert not changed.accounts[MAIN].suspended
    for sid in (TENANT, GRANDCHILD):
        account = changed.accounts[sid]
        assert account.suspended and account.suspended_by == TENANT and account.suspension_reason == "chargeback"


def test_resuming_lifts_the_files_suspension_too(policy: Policy) -> None:
    assert policy.accounts[SUSPENDED].suspended
    changed = apply_overrides(policy, Overrides(2, {SUSPENDED: AccountOverride(False)}))
    assert not changed.accounts[SUSPENDED].suspended


def test_a_parent_suspension_cannot_be_lifted_on_the_child(policy: Policy) -> None:
    changed = apply_overrides(policy, Overrides(3, {MAIN: AccountOverride(True, "fraud"), TENANT: AccountOverride(False)}))
    assert changed.accounts[TENANT].suspended_by == MAIN


def test_runtime_blocks_join_the_files(policy: Policy, clock) -> None:
    overrides = Overrides(
        4,
        blocks=(
            BlockedPrefix("+44207946", "velocity trigger", None, TENANT),
            BlockedPrefix("+1212555", "ops", clock() + 60, None),
        ),
    )
    changed = apply_overrides(policy, overrides)
    guard = Guard(changed, clock=clock)
    assert guard.check(DialRequest(TENANT, "+442079460000", "+442079460000")).reason == "prefix.blocked"
    assert guard.check(DialRequest(MAIN, "+442079460000", "+14155550100")).action is Action.CONNECT
    assert guard.check(DialRequest(MAIN, "+12125550123", "+14155550100")).reason == "prefix.blocked"
    clock.advance(61)
    assert guard.check(DialRequest(MAIN, "+12125550123", "+14155550100")).action is Action.CONNECT
    # The file's own blocks are still there.
    assert guard.check(DialRequest(TENANT, "+493012345678", "+442079460000")).reason == "prefix.blocked"


def test_runtime_permissions_replace_the_files_entry_and_are_inherited(policy: Policy) -> None:
    from callguard.policy import Permission

    overrides = Overrides(5, permissions={(MAIN, "DE"): Permission(low_risk=True), (MAIN, "US"): Permission()})
    changed = apply_overrides(policy, overrides)
    assert changed.accounts[MAIN].permission("DE").low_risk and not changed.accounts[MAIN].permission("US").low_risk
    # Tenant inherits Main's runtime entries, but its own file entries still win for its countries.
    assert not changed.accounts[TENANT].permission("US").low_risk
    assert changed.accounts[TENANT].permission("GB") == Permission(low_risk=True)
    assert changed.accounts[GRANDCHILD].permission("DE").low_risk
