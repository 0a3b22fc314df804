"""A REST dialer: places calls with ``calls.create``, each one checked by callguard first.

``calls.create`` reaches no webhook until the callee answers, so the guarded client asks the
engine before anything is sent: a refused call raises ``CallBlocked`` (with the decision) and
is skipped; a call of a telemarketing campaign is created with its ``url`` pointed at
callguard's ``/voice/answer``, which plays the disclosure and the opt-out prompt on answer and
then hands the call to ``--url``. Every decision is written to callguard's audit log. The exit
status is 1 when any call was refused. With the account's real SID and auth token:

    export TWILIO_ACCOUNT_SID=AC00000000000000000000000000000001 TWILIO_AUTH_TOKEN=your_auth_token
    export CALLGUARD_POLICY=examples/policy.toml CALLGUARD_PUBLIC_URL=https://cg.example.com
    python examples/rest_dialer.py --from +14155550100 --url https://app.example.com/voice/start +14155550123 +4930901820
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from twilio.rest import Client

from callguard import CallBlocked, Clock, Guard, GuardedClient, load_policy, system_clock
from callguard.lookups import Lookups
from callguard.registry import RegistryDirectory
from callguard.store.audit import SqlAuditLog
from callguard.store.consents import ConsentStore
from callguard.store.database import create_database_engine, default_database_url
from callguard.store.migrate import ensure_schema
from callguard.store.optouts import OptOutStore


@dataclass
class Outcome:
    to: str
    call_sid: str | None
    blocked: str | None  # the reasons, when callguard refused the call


def place_calls(client: GuardedClient, numbers: Iterable[str], *, from_: str, url: str) -> list[Outcome]:
    outcomes = []
    for to in numbers:
        try:
            call = client.calls.create(to=to, from_=from_, url=url)
            outcomes.append(Outcome(to, call.sid, None))
        except CallBlocked as blocked:
            outcomes.append(Outcome(to, None, ",".join(blocked.decision.reasons)))
    return outcomes


def main(argv: list[str] | None = None, *, twilio: Any = None, clock: Clock = system_clock) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("numbers", nargs="+")
    parser.add_argument("--from", dest="from_", required=True)
    parser.add_argument("--url", required=True, help="your TwiML for the answered call")
    parser.add_argument("--campaign")
    args = parser.parse_args(argv)

    # The same stores callguard serve uses: decisions are audited, and a telemarketing call is
    # checked against the opt-outs, consent and national registries like any other.
    engine = create_database_engine(os.environ.get("CALLGUARD_DATABASE_URL") or default_database_url())
    ensure_schema(engine)
    registries = RegistryDirectory(os.environ.get("CALLGUARD_REGISTRY_DIR") or "registries", clock=clock)
    lookups = Lookups(optouts=OptOutStore(engine), consents=ConsentStore(engine), registries=registries)
    guard = Guard(load_policy(os.environ["CALLGUARD_POLICY"]), clock=clock, audit=SqlAuditLog(engine), lookups=lookups)
    twilio = twilio or Client(os.environ["TWILIO_ACCOUNT_SID"], os.environ["TWILIO_AUTH_TOKEN"])
    client = GuardedClient(twilio, guard, answer_base_url=os.environ.get("CALLGUARD_PUBLIC_URL"), campaign=args.campaign)
    outcomes = place_calls(client, args.numbers, from_=args.from_, url=args.url)
    for outcome in outcomes:
        print(f"{outcome.to}: " + (f"blocked ({outcome.blocked})" if outcome.blocked else f"placed {outcome.call_sid}"))
    engine.dispose()
    return 1 if any(o.blocked for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
