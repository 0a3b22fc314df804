"""Which test runs each command block of the README and docs/, in what order, and what it must print.

A step names its block by the page it is on and a piece of text only that block of the page
holds; it runs the block's own text as the page shows it. A block whose text is repeated on
another page (the quick start, shown again in docs/examples.md) is the same command, run once.
``test_catalog.py`` fails for any command block no step claims, so a command added to the docs
needs a step here.
"""

from __future__ import annotations

from dataclasses import dataclass

from .markdown import Block, command_blocks


@dataclass(frozen=True)
class Step:
    """A command block run to completion: its exit status, and patterns its output must match."""

    doc: str
    key: str
    expect: tuple[str, ...] = ()
    exit: int = 0

    def block(self, blocks: list[Block] | None = None) -> Block:
        """The one command block of ``doc`` that holds ``key``."""
        found = [b for b in (blocks or command_blocks()) if b.path == self.doc and self.key in b.text]
        if len(found) != 1:
            raise LookupError(f"{self.doc}: {len(found)} command blocks hold {self.key!r}, expected one")
        return found[0]


@dataclass(frozen=True)
class Serve(Step):
    """A block that starts a server and keeps running: ready once its output shows every marker."""

    ready: tuple[str, ...] = ("callguard ready",)


@dataclass(frozen=True)
class RunByCi(Step):
    """A block ``.ci/run`` runs itself (the test suite's own command): it must be there, line for line."""


ACCOUNT = "AC00000000000000000000000000000001"

SCENARIOS: dict[str, tuple[Step, ...]] = {
    # The README's quick start, and every page's commands that try calls on its server or work on
    # its directory (database, counters, registry files).
    "quick_start": (
        Serve("README.md", "callguard serve --policy examples/policy.toml"),
        Step("README.md", "callguard simulate --policy examples/policy.toml --to +14155552671", expect=(
            r"HTTP 200",
            r"X-Callguard-Decision: connect; reasons=ok",
            r'<Dial callerId="\+14155550100"><Number statusCallback="http://127\.0\.0\.1:\d+/voice/status"[^>]*>\+14155552671</Number>',
        )),
        Step("docs/policy.md", "callguard policy validate examples/policy.toml", expect=(
            r"examples/policy\.toml: ok \(2 accounts, 1 of them subaccounts; 1 blocked prefixes\)",
        )),
        Step("docs/cli.md", "--sip-domain pbx.sip.twilio.com", expect=(
            r"X-Callguard-Decision: connect; reasons=ok\n.*<Dial callerId=\"\+14155550100\"><Number[^>]*>\+442079460123</Number>",
            r"X-Callguard-Decision: reject; reasons=destination\.non_pstn",
        )),
        Step("docs/cli.md", f"callguard check --policy examples/policy.toml --account {ACCOUNT} --to +14155552671", expect=(
            r"^connect  ok$",
            r"checks run: .*traffic",
        )),
        Step("docs/telemarketing.md", "--path /voice/optout --digits 9", expect=(
            r"X-Callguard-Decision: disclose; reasons=disclosure\.played\n.*<Gather [^>]*action=\"http://127\.0\.0\.1:\d+/voice/optout\?campaign=solar-spring\"",
            r"X-Callguard-Decision: reject; reasons=optout\.recorded\n.*Your number has been removed",
            r"X-Callguard-Decision: reject; reasons=dnc\.optout\b",
        )),
        Step("docs/traffic.md", "callguard report traffic --policy examples/policy.toml", expect=(
            rf"^{ACCOUNT}$",
            r"caller ID +attempts +answered",
            r"^  US +\d+ +0 ",
        )),
        Step("docs/troubleshooting.md", "TWILIO_AUTH_TOKEN=not_the_servers_token", exit=1, expect=(
            r"HTTP 403",
            r"callguard: 403: the signature did not verify\. Is TWILIO_AUTH_TOKEN the token",
        )),
        Step("docs/troubleshooting.md", "--to +447700900123", exit=1, expect=(r"^reject  destination\.invalid",)),
        Step("docs/telemarketing.md", "callguard registry build area_code_415.txt", expect=(
            r"us_ftc: 2 numbers from 2 lines \(0 skipped\) -> registries/us_ftc\.cgreg",
            r"^us_ftc\tAS,GU,MP,PR,US,VI\t2 numbers\t",
        )),
        Step("docs/telemarketing.md", "--campaign solar-spring --to +14155550199", exit=1, expect=(
            r"^reject  dnc\.national\.us_ftc",
            r"\+14155550199 is on the us_ftc Do-Not-Call registry",
        )),
        Step("docs/telemarketing.md", "callguard consent add +14155550199", expect=(r"^consent 1: \+14155550199 ",)),
        Step("docs/cli.md", "callguard registry apply-delta changes.txt --name us_ftc", expect=(
            r"us_ftc: 2 -> 2 numbers \(\+1 additions, -1 deletions applied\)",
            r"^us_ftc\t.*\t2 numbers\t",
        )),
        Step("docs/cli.md", "callguard block add +2613", expect=(
            r"^block 1: \+2613 \(every account\): fraud investigation$",
            r"\+2613\t\*\t2027-01-01",
            r"^AC00000000000000000000000000000002: suspended \(unpaid invoice\)$",
            r"^AC00000000000000000000000000000002: resumed$",
        )),
        Step("docs/cli.md", 'callguard optout add "(415) 555-0123"', expect=(
            rf"^\+14155550123: opted out \(account family {ACCOUNT}, every campaign\)$",
            r"optouts\.txt: 2 opt-outs added",
            rf"^\+14155550123,{ACCOUNT},\*,admin,.*,asked by email$",
        )),
        Step("docs/cli.md", 'callguard complaint add "(415) 555-0126"', expect=(
            rf"^complaint 1: \+14155550126 about \+14155550100 \(consumer\); opted out \(account family {ACCOUNT}, every campaign\)$",
            r"^complaints\.csv: 1 complaints added, 0 lines skipped$",
            rf"^2,\+14155550127,\+14155550100,{ACCOUNT},{ACCOUNT},,carrier,2026-12-01T09:30:00\+00:00,",
            rf"^1,\+14155550126,\+14155550100,{ACCOUNT},{ACCOUNT},,consumer,.*,called during dinner$",
        )),
    ),
    "admin_api": (
        Serve("docs/admin-api.md", "callguard serve --policy examples/policy.toml"),
        Step("docs/admin-api.md", '"reserve": true', expect=(
            r'"action": ?"connect"',
            r'"reservation": ?\{[^}]*"slot": ?"cg-[0-9a-f]+"',
            r'"status_callback": ?"http://127\.0\.0\.1:\d+/voice/status\?slot=cg-',
        )),
        Step("docs/admin-api.md", "/suspend", expect=(
            r'"suspended": ?true',
            r'"prefix": ?"\+2613"',
            r'"entity": ?"permission"',
            r'"actor": ?"api:admin"',
        )),
        Step("docs/admin-api.md", "format=csv"),
    ),
    "many_hosts": (
        Serve("docs/deployment.md", "gunicorn --bind 127.0.0.1:8000 wsgi:app", ready=("callguard ready",)),
        Step("docs/deployment.md", "/healthz", expect=(
            r"X-Callguard-Decision: connect; reasons=ok",
            r'"database": ?\{[^}]*"url": ?"postgresql',
            r'"backend": ?"redis"',
            r'^callguard_decisions_total\{action="connect",reason="ok"\} [1-9]',
        )),
    ),
    "twilio_sync": (
        Step("docs/twilio-sync.md", "callguard sync --policy mirror.toml", expect=(
            rf"^Main \({ACCOUNT}\): synced: owned numbers: 1, verified caller IDs: 0, countries open: 1 of 1, status active$",
            r"^connect  ok$",
        )),
    ),
    "sip_trunk": (
        Serve("docs/examples.md", "callguard serve --policy examples/sip_trunk.toml"),
        Step("docs/examples.md", "--to 9011442079460018", expect=(
            r"X-Callguard-Decision: connect; reasons=ok\n.*<Dial callerId=\"\+14155550101\"><Number>\+442079460018</Number>",
            r"X-Callguard-Decision: reject; reasons=prefix\.blocked,geo\.high_risk_special\n"
            r".*<Say>Calls to this destination are not permitted\. Goodbye\.</Say><Hangup ?/>",
        )),
    ),
    "voice_app": (
        Serve("docs/examples.md", "TWILIO_AUTH_TOKEN=your_auth_token flask --app examples/voice_app.py", ready=("Running on",)),
        Step("docs/examples.md", "callguard simulate --url http://127.0.0.1:5000 --path /voice/incoming --account", expect=(
            r"HTTP 200",
            r"<Number[^>]*>\+14155550123</Number><Number[^>]*>\+442079460018</Number><Number[^>]*>\+4930901820</Number>",
        )),
    ),
    "protected_app": (
        Serve("docs/examples.md", "flask --app examples/protected_app.py", ready=("Running on",)),
        Step("docs/examples.md", "--url http://127.0.0.1:5000 --path /voice/incoming --from", expect=(
            r"X-Callguard-Decision: connect; reasons=ok,geo\.low_risk",
            r"<Number[^>]*>\+14155550123</Number><Number[^>]*>\+442079460018</Number></Dial>",
        )),
    ),
    "proxy": (
        Serve("docs/examples.md", "callguard serve --policy examples/proxy.toml", ready=("Running on", "callguard ready")),
        Step("docs/examples.md", "callguard simulate --policy examples/proxy.toml", expect=(
            r"X-Callguard-Decision: connect; reasons=ok,geo\.low_risk",
            r"<Number[^>]*>\+14155550123</Number><Number[^>]*>\+442079460018</Number></Dial>",
        )),
    ),
    "django": (
        Serve("docs/examples.md", "gunicorn --bind 127.0.0.1:8000 voicesite.wsgi", ready=("Listening at",)),
        Step("docs/examples.md", "--path /twilio/voice --to +14155550123", expect=(
            r"X-Callguard-Decision: connect; reasons=ok",
            r"<Dial callerId=\"\+14155550100\"><Number[^>]*>\+14155550123</Number></Dial>",
        )),
    ),
    "rest_dialer": (
        Step("docs/examples.md", "python examples/rest_dialer.py", exit=1, expect=(
            r"^\+14155550123: placed CA[0-9a-f]{32}$",
            r"^\+4930901820: blocked \(geo\.low_risk\)$",
        )),
    ),
    "test_suite": (
        RunByCi("README.md", ".venv/bin/pytest"),
    ),
}


def claimed_texts() -> set[str]:
    """The text of every block some step runs."""
    blocks = command_blocks()
    return {step.block(blocks).text for steps in SCENARIOS.values() for step in steps}
