"""Instructions per request (valgrind's callgrind), the WSGI app called in-process with signed requests.

    python benchmarks/instructions.py [--requests 200] [--warm 50] [--scenarios outbound,wrapped1,wrapped3,traffic-redis]

Instruction counts, unlike times, repeat to a few tenths of a percent on a VM whose speed drifts,
so a change worth 1 % of a request shows in one run. Each scenario runs in a process of its own
under callgrind: the app is built, ``--warm`` requests answered (imports, caches), then
``--requests`` more, and the audit writer flushed, between two calls of ``os.getppid`` that
callgrind dumps its counts at (``--dump-before=getppid``); their difference over the requests is
the figure. The scenarios:

- ``outbound``: ``POST /voice/outbound`` of callguard's own app (``create_app``), 50 destinations
  in turn, as ``decide.py``'s repeated destinations;
- ``outbound-unique``: the same with a new destination every request;
- ``wrapped1``, ``wrapped3``: ``examples/protected_app.py``'s ``@guard.protect``-ed view dialling
  one number, and three of which the policy refuses one, as ``wrap.py``;
- ``traffic-sqlite``, ``traffic-redis``: ``/voice/outbound`` with a ``[traffic]`` policy (every
  call counted), counters in SQLite or in Redis (127.0.0.1:6379; skipped when unreachable);
- ``telemarketing``: ``/voice/outbound?campaign=spring``, a telemarketing campaign (opt-outs read,
  calling hours in every zone of the callee, disclosure), 50 US and Canadian destinations in turn,
  split area codes among them (928, 541, 208, 306, 250, 807); calling hours are open all day, so
  the answer does not depend on when the run is.

Background work is held still (no policy refresh, no Twilio sync, no timed audit flush) so that
it is counted once per request, in the flush. Needs valgrind (Debian: valgrind).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
ACCOUNT = "AC00000000000000000000000000000001"
TOKEN = "benchmark-auth-token-0123456789ab"
CALLER_ID = "+14155550100"
SCENARIOS = ["outbound", "outbound-unique", "wrapped1", "wrapped3", "traffic-sqlite", "traffic-redis", "telemarketing"]
REDIS_URL = "redis://127.0.0.1:6379/0"

COUNTRIES = ("US", "CA", "GB", "DE", "FR", "AU", "NL", "IT", "ES", "BR", "IN", "MX")  # decide.py's
OUTBOUND_POLICY = f"""
[accounts.{ACCOUNT}]
name = "Benchmark"
caller_ids = ["{CALLER_ID}"]
default_region = "US"
[accounts.{ACCOUNT}.permissions]
""" + "\n".join(f"{c} = {{ low_risk = true, high_risk_special = true }}" for c in COUNTRIES)
# Limits no run reaches: every call is counted and connects.
TRAFFIC_POLICY = f"""
[traffic]
cps = 1000000
concurrent = 1000000
max_calls_per_callee_per_day = 1000000
velocity = [{{ country = "US", max_calls = 100000000, window = "10m", block_for = "1h" }}]
[accounts.{ACCOUNT}]
name = "Benchmark"
caller_ids = ["{CALLER_ID}"]
default_region = "US"
[accounts.{ACCOUNT}.permissions]
US = {{ low_risk = true }}
"""
TELEMARKETING_POLICY = OUTBOUND_POLICY + """
[campaigns.spring]
purpose = "telemarketing"
organization = "Acme Solar"
disclosure = "This is Acme Solar calling about our spring offer."
[calling_hours]
keep_shipped = false
default = { all = "00:00-24:00" }
"""
# Area codes in states without a legal per-callee limit, so every call is disclosed.
TELEMARKETING_AREA_CODES = ("928", "541", "208", "212", "415", "306", "250", "807", "312", "503")
WRAP_POLICY = f"""
[accounts.{ACCOUNT}]
caller_ids = ["{CALLER_ID}"]
[accounts.{ACCOUNT}.permissions]
US = {{ low_risk = true }}
GB = {{ low_risk = true }}
"""


def request_loop(scenario: str, warm: int, count: int) -> None:
    """Answer ``warm`` then ``count`` signed requests, the latter between the two markers."""
    sys.path[:0] = [str(ROOT), str(ROOT / "examples"), str(ROOT / "benchmarks")]
    work = Path(tempfile.mkdtemp(prefix="callguard-instructions-"))
    policy = work / "policy.toml"
    wrapped = scenario.startswith("wrapped")
    redis_prefix = None
    if wrapped:
        policy.write_text(WRAP_POLICY)
        path, port = "/voice/incoming", 18600
        os.environ["SALES_TEAM"] = "+14155550123" if scenario == "wrapped1" else "+14155550123,+442079460018,+4930901820"
    else:
        texts = {"traffic-sqlite": TRAFFIC_POLICY, "traffic-redis": TRAFFIC_POLICY, "telemarketing": TELEMARKETING_POLICY}
        policy.write_text(texts.get(scenario, OUTBOUND_POLICY))
        path, port = "/voice/outbound", 18601
    query = "campaign=spring" if scenario == "telemarketing" else ""
    if scenario == "traffic-redis":
        redis_prefix = f"callguard-bench:{uuid.uuid4().hex[:8]}:"
        os.environ.update(CALLGUARD_REDIS_URL=REDIS_URL, CALLGUARD_REDIS_PREFIX=redis_prefix)
    base = f"http://127.0.0.1:{port}"
    os.environ.update(
        CALLGUARD_POLICY=str(policy),
        TWILIO_AUTH_TOKEN=TOKEN,
        VOICE_APP_PUBLIC_URL=base,
        CALLGUARD_PUBLIC_URL=base,
        CALLGUARD_DATABASE_URL=f"sqlite:///{work / 'callguard.db'}",
        CALLGUARD_COUNTERS_PATH=str(work / "counters.db"),
        CALLGUARD_REGISTRY_DIR=str(work / "registries"),
        CALLGUARD_REFRESH_INTERVAL="0",
        CALLGUARD_TWILIO_SYNC_INTERVAL="0",
        CALLGUARD_AUDIT_FLUSH_INTERVAL="100000",  # written in the measured flush, not by the timer
    )
    from twilio.request_validator import RequestValidator
    from werkzeug.test import EnvironBuilder

    if wrapped:
        import protected_app

        app = protected_app.app
    else:
        from callguard.web.app import create_app

        app = create_app()
    state = app.extensions["callguard"]
    if scenario == "outbound-unique":
        from decide import unique_numbers

        numbers = unique_numbers(warm + count, seed=3)
    elif scenario == "telemarketing":
        codes = TELEMARKETING_AREA_CODES
        numbers = [f"+1{codes[i % len(codes)]}555{(i % 50) // len(codes):04d}" for i in range(warm + count)]
    else:
        numbers = [f"+1415555{i % 50:04d}" for i in range(warm + count)]
    validator = RequestValidator(TOKEN)
    environs = []
    for i, number in enumerate(numbers):
        params = {
            "AccountSid": ACCOUNT, "ApiVersion": "2010-04-01", "CallSid": f"CA{i:032x}", "CallStatus": "ringing", "Direction": "inbound",
            "From": "+12125550199" if wrapped else CALLER_ID, "To": CALLER_ID if wrapped else number,
        }
        url = f"{base}{path}?{query}" if query else base + path
        headers = {"X-Twilio-Signature": validator.compute_signature(url, params)}
        environs.append(EnvironBuilder(path=path, query_string=query, method="POST", base_url=base, data=urlencode(params),
                                       headers=headers, content_type="application/x-www-form-urlencoded").get_environ())
    answers: dict[str, int] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        decision = dict(headers).get("X-Callguard-Decision", "")
        answers[f"{status.split()[0]} {decision}"] = answers.get(f"{status.split()[0]} {decision}", 0) + 1

    def answer(environ: dict[str, Any]) -> None:
        for _ in app(environ, start_response):
            pass

    for environ in environs[:warm]:
        answer(environ)
    state.audit.flush()
    os.getppid()  # callgrind's first dump: what came before
    for environ in environs[warm:]:
        answer(environ)
    state.audit.flush()
    os.getppid()  # the second: the requests
    print(f"answers: {answers}")
    if redis_prefix is not None:
        import redis

        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(redis_prefix + "*"):
            client.delete(key)
    os._exit(0)  # no shutdown work after the count


def redis_reachable() -> bool:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except Exception:  # noqa: BLE001
        return False
    return True


def measure(scenario: str, warm: int, count: int) -> tuple[float, str]:
    """(instructions per request, the answers given)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        run = subprocess.run(
            ["valgrind", "--tool=callgrind", "--dump-before=getppid", f"--callgrind-out-file={out}.%p",
             sys.executable, __file__, "--loop", scenario, str(warm), str(count)],
            env={**os.environ, "PYTHONHASHSEED": "0"}, capture_output=True, text=True,
        )
        parts = sorted(Path(tmp).glob("callgrind.out.*.2"))
        if run.returncode != 0 or not parts:
            raise RuntimeError(f"{scenario}: the run under callgrind failed:\n{run.stdout}\n{run.stderr[-3000:]}")
        total = re.search(r"^(?:summary|totals): (\d+)", parts[0].read_text(), re.MULTILINE)
        assert total is not None
        answers = re.search(r"answers: (.*)", run.stdout)
        return int(total.group(1)) / count, answers.group(1) if answers else "?"


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--loop":
        request_loop(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warm", type=int, default=50)
    parser.add_argument(
        "--scenarios", default="outbound,wrapped1,wrapped3,traffic-redis", help=f"comma-separated, of {', '.join(SCENARIOS)}"
    )
    args = parser.parse_args()
    if not shutil.which("valgrind"):
        sys.exit("benchmarks/instructions.py needs valgrind (apt-get install valgrind)")
    print(f"python {sys.version.split()[0]}, callgrind, {args.requests} requests after {args.warm}")
    for scenario in args.scenarios.split(","):
        if scenario not in SCENARIOS:
            sys.exit(f"unknown scenario {scenario!r}: one of {', '.join(SCENARIOS)}")
        if scenario == "traffic-redis" and not redis_reachable():
            print(f"{scenario:16} skipped: no Redis at {REDIS_URL}")
            continue
        per_request, answers = measure(scenario, args.warm, args.requests)
        print(f"{scenario:16} {per_request / 1000:8.1f} thousand instructions a request   {answers}")


if __name__ == "__main__":
    main()
