"""The decision engine: ``Guard.check(DialRequest) -> Decision``.

The engine is pure apart from two injected edges: a clock, and an audit sink that receives
every decision (the sink queues; it does no I/O on the caller's thread). It never raises for a
bad request: malformed input becomes a refusal, and an internal fault becomes a decision by
the policy's fail mode, except that an emergency number always connects. A policy kept past
the time its keeper said it may be used (:meth:`Guard.keep_policy_until`) is such a fault too.
"""

from __future__ import annotations

import functools
import time
from typing import Protocol

from .checks import DEFAULT_CHECKS, SKIP, TELEMARKETING_CHECKS, Check, DialContext
from .clock import Clock, system_clock
from .decision import Action, Allow, Decision, DialRequest, Fault, Refusal
from .errors import StaleData, StoreUnavailable
from .loggers import get_logger
from .lookups import NO_LOOKUPS, Lookups
from .numbers.classify import NumberClassifier, NumberInfo
from .numbers.dialstring import DEFAULT_EXTENSION_DIGITS, DialTarget, TargetKind, normalize_dial_string
from .policy.model import Account, FailMode, Policy

log = get_logger("callguard.engine")


class AuditSink(Protocol):
    """Where decisions go to be recorded. ``record`` must not block on I/O."""

    def record(self, decision: Decision) -> None: ...


class NullAudit:
    """An audit sink that keeps nothing (for what-if checks and tests of pure logic)."""

    def record(self, decision: Decision) -> None:
        return None


class _Resolved:
    """Everything about a request that depends only on the policy and the request's fields."""

    __slots__ = ("account", "target", "info", "region", "caller_id", "caller_id_valid", "caller_id_source")

    def __init__(
        self,
        account: Account | None,
        target: DialTarget,
        info: NumberInfo | None,
        region: str,
        caller_id: str | None,
        caller_id_valid: bool,
        caller_id_source: str,
    ) -> None:
        self.account = account
        self.target = target
        self.info = info
        self.region = region
        self.caller_id = caller_id
        self.caller_id_valid = caller_id_valid
        self.caller_id_source = caller_id_source


class _Snapshot:
    """One policy with its classifier and its cache of resolved requests, swapped as a unit."""

    __slots__ = ("policy", "classifier", "resolve", "caller_id")

    def __init__(self, policy: Policy, cache_size: int) -> None:
        self.policy = policy
        self.classifier = NumberClassifier(policy.risk_table)
        # functools' C LRU: a hit costs ~0.2 µs, which is what keeps a repeated decision under
        # 5 µs. The caller-ID cache serves unique destinations dialled from a known caller.
        self.resolve = functools.lru_cache(maxsize=cache_size)(self._resolve)
        self.caller_id = functools.lru_cache(maxsize=cache_size)(self._caller_id)

    def _caller_id(
        self,
        caller_id: str | None,
        from_: str | None,
        account_sid: str | None,
        region: str,
        trunk_default: str | None,
        extension_digits: tuple[int, int] | None,
    ) -> tuple[str | None, bool, str, str | None]:
        account = self.policy.account(account_sid)
        classify = self.classifier.classify
        if caller_id:
            target = normalize_dial_string(caller_id, default_region=region, emergency_regions=())
            if target.kind is TargetKind.PSTN:
                info = classify(target.e164, target.number)  # type: ignore[arg-type]
                return target.e164, info.valid, "callerId", info.region
            return caller_id, False, "callerId", None
        if from_:
            target = normalize_dial_string(from_, default_region=region, emergency_regions=(), extension_digits=extension_digits)
            if target.kind is TargetKind.PSTN:
                info = classify(target.e164, target.number)  # type: ignore[arg-type]
                # A From that is an extension or otherwise not a real number falls through to
                # the configured default rather than refusing the call.
                if info.valid:
                    return target.e164, True, "From", info.region
        if trunk_default is not None:
            return trunk_default, True, "SIP domain default", None
        if account is not None and account.default_caller_id is not None:
            return account.default_caller_id, True, "account default", None
        return None, False, "none", None

    def _resolve(
        self, account_sid: str | None, to: str, from_: str | None, caller_id: str | None, sip_domain: str | None
    ) -> _Resolved:
        policy = self.policy
        account = policy.account(account_sid)
        trunk_default = None
        extensions: tuple[int, int] | None = DEFAULT_EXTENSION_DIGITS
        if account is not None:
            region = account.default_region
            prefix = account.outside_line_prefix
            if sip_domain:
                trunk = account.sip_domains.get(sip_domain.lower())
                if trunk is not None:
                    region = trunk.default_region or region
                    prefix = trunk.outside_line_prefix or prefix
                    trunk_default = trunk.default_caller_id
                    extensions = trunk.extension_digits
        else:
            region, prefix = policy.defaults.default_region, None

        cid, cid_valid, cid_source, cid_region = self.caller_id(caller_id, from_, account_sid, region, trunk_default, extensions)
        emergency_regions = (region,) if cid_region in (None, region) else (region, cid_region)
        target = normalize_dial_string(
            to, default_region=region, outside_line_prefix=prefix, emergency_regions=emergency_regions, extension_digits=extensions
        )
        info = self.classifier.classify(target.e164, target.number) if target.kind is TargetKind.PSTN else None  # type: ignore[arg-type]
        return _Resolved(account, target, info, region, cid, cid_valid, cid_source)


class Guard:
    """Decides connect or reject for outbound dials against one policy snapshot.

    The policy can be swapped with :meth:`replace_policy` (a new snapshot with fresh caches, so
    risk overrides take effect at once); a decision in flight keeps the snapshot it started with.
    """

    def __init__(
        self,
        policy: Policy,
        *,
        clock: Clock = system_clock,
        audit: AuditSink | None = None,
        checks: tuple[tuple[str, Check], ...] = DEFAULT_CHECKS,
        telemarketing_checks: tuple[tuple[str, Check], ...] = TELEMARKETING_CHECKS,
        cache_size: int = 65_536,
        lookups: Lookups = NO_LOOKUPS,
    ) -> None:
        self.clock = clock
        self.lookups = lookups
        self.telemarketing_checks = telemarketing_checks
        self.audit: AuditSink = audit if audit is not None else NullAudit()
        self.checks = checks
        self.cache_size = cache_size
        self._snapshot = _Snapshot(policy, cache_size)
        self._fresh_until: float | None = None

    @property
    def policy(self) -> Policy:
        return self._snapshot.policy

    def replace_policy(self, policy: Policy) -> None:
        self._snapshot = _Snapshot(policy, self.cache_size)

    def keep_policy_until(self, until: float | None) -> None:
        """Decide by the policy in force until ``until`` (epoch seconds, by this guard's clock);
        after it every decision follows the fail mode (an emergency number still connects) until
        this is called again. None: no limit (the default)."""
        self._fresh_until = until

    # -- decisions ---------------------------------------------------------------------------

    def check(self, request: DialRequest) -> Decision:
        """Decide on one dial and hand the decision to the audit sink."""
        started = time.perf_counter()
        snapshot = self._snapshot
        now = self.clock()
        try:
            if self._fresh_until is not None and now > self._fresh_until:
                raise StaleData("the runtime policy", fresh_until=self._fresh_until)
            decision = self._decide(request, snapshot, now, started)
        except (StaleData, StoreUnavailable) as exc:  # an outage, not a bug: no traceback per call
            log.warning("call %s decided by the fail mode: %s", request.call_sid, exc)
            decision = self.fault_decision(request, exc, now=now, started=started)
        except Exception as exc:  # a bug or bad data must not take the call down with it
            log.exception("decision fault for call %s to %r", request.call_sid, request.to)
            decision = self.fault_decision(request, exc, now=now, started=started)
        self.record(decision)
        return decision

    def record(self, decision: Decision) -> None:
        """Hand ``decision`` to the audit sink; a sink that fails (a synchronous one whose database
        is down) costs the record, never the decision."""
        try:
            self.audit.record(decision)
        except StoreUnavailable as exc:
            log.warning("decision for call %s not recorded: %s", decision.request.call_sid, exc)
        except Exception:
            log.exception("decision for call %s not recorded", decision.request.call_sid)

    def _decide(self, request: DialRequest, snapshot: _Snapshot, now: float, started: float) -> Decision:
        try:
            resolved = snapshot.resolve(request.account_sid, request.to, request.from_, request.caller_id, request.sip_domain)
        except TypeError:  # an unhashable field: resolve without the cache
            resolved = snapshot._resolve(request.account_sid, request.to, request.from_, request.caller_id, request.sip_domain)
        policy = snapshot.policy
        account = resolved.account
        campaign_id = request.campaign or (account.default_campaign if account is not None else None)
        ctx = DialContext(
            request,
            policy,
            account,
            resolved.target,
            resolved.info,
            resolved.region,
            resolved.caller_id,
            resolved.caller_id_valid,
            resolved.caller_id_source,
            now,
            campaign_id,
            policy.campaigns.get(campaign_id) if campaign_id else None,
            self.lookups,
        )
        ran: list[str] = []
        refusals: list[Refusal] = []
        checks = self.checks
        if ctx.campaign is not None and ctx.campaign.telemarketing:
            checks = checks + self.telemarketing_checks
        for name, check in checks:
            outcome = check(ctx)
            if outcome is None:
                ran.append(name)
            elif outcome is not SKIP:
                ran.append(name)
                if outcome.__class__ is Allow:
                    return self._finish(ctx, Action.CONNECT, (outcome.code,), outcome.sentence, ran, (), now, started)
                refusals.append(outcome)  # type: ignore[arg-type]
                ctx.refused = True
        if refusals:
            for give_back in ctx.on_reject or ():  # quota a refused call took
                try:
                    give_back()
                except Exception:
                    log.exception("could not give back the counters of refused call %s", request.call_sid)
            reasons = tuple(r.code for r in refusals)
            return self._finish(ctx, Action.REJECT, reasons, refusals[0].sentence, ran, tuple(refusals), now, started)
        if ctx.telemarketing_number:
            campaign = ctx.campaign
            assert campaign is not None
            sentence = (
                f"Connect {ctx.target.e164} after the callee hears campaign {campaign.id}'s disclosure "
                f"({campaign.organization}) and the opt-out prompt."
            )
            return self._finish(ctx, Action.DISCLOSE, ("disclosure.required",), sentence, ran, (), now, started)
        return self._finish(ctx, Action.CONNECT, ("ok",), "", ran, (), now, started)

    @staticmethod
    def _finish(
        ctx: DialContext,
        action: Action,
        reasons: tuple[str, ...],
        sentence: str,
        ran: list[str],
        refusals: tuple[Refusal, ...],
        now: float,
        started: float,
    ) -> Decision:
        account = ctx.account
        return Decision(
            action,
            reasons,
            sentence or f"Connect {ctx.target.dial_value}: every check passed.",
            ctx.request,
            ctx.target,
            ctx.info,
            ctx.caller_id if ctx.caller_id_valid else None,
            account.name if account is not None else None,
            tuple(ran),
            refusals,
            now,
            (time.perf_counter() - started) * 1e6,
            None,
            ctx.campaign.id if ctx.campaign is not None else None,
        )

    def fault_decision(
        self, request: DialRequest, exc: BaseException, *, now: float | None = None, started: float | None = None
    ) -> Decision:
        """The decision for a call whose check failed: emergency connects, the rest follow the fail mode.

        The web layer uses this too, for faults outside the engine.
        """
        snapshot = self._snapshot
        policy = snapshot.policy
        now = self.clock() if now is None else now
        started = time.perf_counter() if started is None else started
        fault = Fault.of(exc)
        account: Account | None = None
        target = DialTarget(TargetKind.INVALID, str(request.to), error="not examined: internal fault")
        info: NumberInfo | None = None
        caller_id: str | None = None
        try:
            # The fault may have been in a check, with resolution fine: then emergency numbers
            # are recognised for exactly the regions a normal decision would use.
            resolved = snapshot._resolve(request.account_sid, request.to, request.from_, request.caller_id, request.sip_domain)
            account, target, info = resolved.account, resolved.target, resolved.info
            caller_id = resolved.caller_id if resolved.caller_id_valid else None
        except Exception:
            try:
                account = policy.account(request.account_sid)
                region = account.default_region if account is not None else policy.defaults.default_region
                prefix = account.outside_line_prefix if account is not None else None
                target = normalize_dial_string(request.to, default_region=region, outside_line_prefix=prefix)
                if target.kind is TargetKind.PSTN:
                    info = snapshot.classifier.classify(target.e164, target.number)  # type: ignore[arg-type]
            except Exception:
                log.exception("fault while examining call %s after an earlier fault", request.call_sid)
        if caller_id is None and account is not None:
            caller_id = account.default_caller_id

        reasons: tuple[str, ...]
        if target.kind is TargetKind.EMERGENCY:
            action, reasons = Action.CONNECT, ("emergency", "fault.internal")
            sentence = f"{target.digits} is an emergency number: connected despite an internal fault ({fault})."
        elif policy.defaults.fail_mode is FailMode.CONNECT and info is not None and info.valid:
            action, reasons = Action.CONNECT, ("fault.fail_open",)
            sentence = f"Internal fault ({fault}); the policy's fail mode connects {target.e164} unchecked."
        else:
            action, reasons = Action.REJECT, ("fault.internal",)
            sentence = f"Internal fault ({fault}); the call is refused by the policy's fail mode."
        return Decision(
            action=action,
            reasons=reasons,
            sentence=sentence,
            request=request,
            target=target,
            info=info,
            caller_id=caller_id,
            account_name=account.name if account is not None else None,
            checks=(),
            decided_at=now,
            elapsed_us=(time.perf_counter() - started) * 1e6,
            fault=fault,
        )
