"""``callguard complaint …``: complaints about calls.

Recording a complaint opts the callee out across the calling account's family and counts
towards the ``[traffic.complaints]`` thresholds: a caller ID or campaign that reaches one is
throttled (paused) in the counters the servers read (``--redis-url``, else ``--counters-path``),
alerted to the policy's webhook and written to the change log. Numbers and caller IDs are read
with the account's default region and stored in E.164. An import writes nothing unless every
line is good (or ``--skip-bad-lines`` is given); a bad line stops it with one line naming the
file, line and field.
"""

from __future__ import annotations

import csv
import json
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import IO, Any

import click

from ..csv_cells import safe_row
from ..instants import BadInstant, parse_instant
from ..numbers.e164 import valid_e164
from ..policy.model import Account, Policy
from ..records import COMPLAINT_SOURCES, Complaint
from ..runtime.alerts import AlertSink
from ..runtime.complaints import record_complaints
from ..runtime.reactions import on_traffic_event
from ..store.complaints import ComplaintStore, NewComplaint
from ..store.optouts import OptOutStore
from ..store.overrides import OverrideStore
from ..traffic.monitor import TrafficMonitor
from .context import CliContext, actor, actor_option, counters_options, pass_cli, records_options
from .errors import BadUsage
from .input_lines import BadLines, read_lines

LIST_FIELDS = ("id", "number", "caller_id", "account_sid", "family", "campaign", "source", "received_at", "created_at", "note")
IMPORT_FIELDS = ("number", "caller_id", "source", "received_at", "campaign", "note")
MAX_NOTE = 1000


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).isoformat(timespec="seconds")


def _instant(value: str, where: str) -> float:
    try:
        return parse_instant(value)
    except BadInstant as exc:
        raise BadUsage(f"{where}: {exc}") from None


class _Recorder:
    """The store, and the traffic monitor that judges thresholds with alerts sent before the command ends."""

    def __init__(self, cli: CliContext) -> None:
        self.policy = cli.policy()
        engine = cli.engine()
        self.store = ComplaintStore(engine, OptOutStore(engine))
        self.sink = AlertSink(lambda: self.policy.alert_webhook)
        overrides = OverrideStore(engine)
        counters = cli.counters(must_exist=False, create=True)
        self.traffic = (
            TrafficMonitor(counters, on_event=lambda e: on_traffic_event(e, self.sink, overrides, time.time)) if counters else None
        )

    def record(self, entries: list[NewComplaint], *, actor: str) -> tuple[list[Complaint], list[str]]:
        added, events = record_complaints(self.store, self.traffic, self.policy, entries, now=time.time(), actor=actor)
        self.sink.drain()
        return added, [e.sentence for e in events]


@click.group()
def complaint() -> None:
    """Complaints about calls: each opts the callee out, and counts towards the complaint thresholds."""


@complaint.command("add")
@click.argument("number")
@click.option("--account", "account_sid", required=True, help="The account that placed the call (the opt-out binds its family).")
@click.option("--caller-id", required=True, help="The caller ID the callee saw.")
@click.option("--source", type=click.Choice(COMPLAINT_SOURCES), required=True, help="Who passed the complaint on.")
@click.option("--campaign", help="The campaign the call was for, if known.")
@click.option("--received-at", help="When the complaint was received (ISO 8601; default: now).")
@click.option("--note", help="What it said, for the record.")
@actor_option
@records_options
@counters_options
@pass_cli
def complaint_add(
    cli: CliContext, number: str, account_sid: str, caller_id: str, source: str, campaign: str | None, received_at: str | None,
    note: str | None, actor_name: str | None,
) -> None:
    """Record a complaint."""
    account = cli.account(account_sid)
    e164 = cli.number(number, account)
    caller = cli.number(caller_id, account, "--caller-id")
    campaign = cli.campaign(campaign)
    if note is not None and len(note) > MAX_NOTE:
        raise BadUsage(f"--note: at most {MAX_NOTE} characters")
    received = _instant(received_at, "--received-at") if received_at else time.time()
    recorder = _Recorder(cli)
    (added,), fired = recorder.record(
        [NewComplaint(e164, caller, account.sid, account.family, campaign, source, received, note)], actor=actor(actor_name)
    )
    click.echo(f"complaint {added.id}: {e164} about {caller} ({source}); opted out (account family {account.family}, every campaign)")
    for sentence in fired:
        click.echo(sentence)


@complaint.command("list")
@click.option("--account", "account_sid", help="Only this account's complaints.")
@click.option("--caller-id", help="Only about this caller ID.")
@click.option("--campaign", help="Only about this campaign.")
@click.option("--since", help="Only those received at or after this time (ISO 8601).")
@click.option("--limit", type=click.IntRange(1), help="At most this many, the newest.")
@records_options
@pass_cli
def complaint_list(
    cli: CliContext, account_sid: str | None, caller_id: str | None, campaign: str | None, since: str | None, limit: int | None
) -> None:
    """List complaints, newest first (CSV, which ``import`` reads back)."""
    cli.policy()
    account = cli.account(account_sid) if account_sid else None
    caller = cli.number(caller_id, account, "--caller-id") if caller_id is not None else None
    found = ComplaintStore(cli.engine(), OptOutStore(cli.engine())).list(
        account_sid=account.sid if account else None, caller_id=caller, campaign=campaign,
        since=_instant(since, "--since") if since else None, limit=limit,
    )
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(LIST_FIELDS)
    for c in found:
        writer.writerow(
            safe_row((
                c.id, c.number, c.caller_id, c.account_sid, c.family, c.campaign, c.source, _iso(c.received_at), _iso(c.created_at),
                c.note,
            ))
        )


def _records(lines: list[str], name: str) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """(line number, the line's fields by name, or what is wrong with it); JSON lines or CSV with a header."""
    content = [(n, line) for n, line in enumerate(lines, start=1) if line.strip() and not line.lstrip().startswith("#")]
    if content and content[0][1].lstrip().startswith("{"):
        for n, line in content:
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                yield n, f"not a JSON object ({exc.msg})"
                continue
            yield n, record if isinstance(record, dict) else "not a JSON object"
        return
    if not content:
        return
    header_line, header = content[0][0], [f.strip().lower() for f in next(csv.reader([content[0][1]]))]
    missing = [f for f in ("number", "caller_id") if f not in header]
    if missing:
        raise BadUsage(f"{name}:{header_line}: the header names no {' or '.join(missing)} column (columns: {', '.join(IMPORT_FIELDS)})")
    for n, line in content[1:]:
        cells = next(csv.reader([line]))
        if len(cells) > len(header):
            yield n, f"{len(cells)} fields, the header names {len(header)}"
            continue
        yield n, {column: cell.strip() for column, cell in zip(header, cells, strict=False) if cell.strip()}


def _entry(record: dict[str, Any], account: Account, policy: Policy, source: str | None, campaign: str | None, now: float) -> NewComplaint:
    """The complaint a line records; ValueError naming the field for a bad one."""

    def text(field: str) -> str | None:
        value = record.get(field)
        if value is not None and not isinstance(value, str):
            raise ValueError(f"{field}: expected a string")
        return value or None

    numbers = []
    for field in ("number", "caller_id"):
        raw = text(field)
        number = valid_e164(raw, account.default_region) if raw else None
        if number is None:
            raise ValueError(f"{field}: {raw!r} is not a valid phone number (read with region {account.default_region})")
        numbers.append(number)
    line_source = text("source") or source
    if line_source not in COMPLAINT_SOURCES:
        raise ValueError(f"source: {line_source!r} is not one of {', '.join(COMPLAINT_SOURCES)}")
    line_campaign = text("campaign") or campaign
    if line_campaign is not None and policy.campaign(line_campaign) is None:
        raise ValueError(f"campaign: {line_campaign!r} is not a campaign in {policy.source}")
    raw_received = text("received_at")
    try:
        received = parse_instant(raw_received) if raw_received else now
    except BadInstant as exc:
        raise ValueError(f"received_at: {exc}") from None
    note = text("note")
    if note is not None and len(note) > MAX_NOTE:
        raise ValueError(f"note: at most {MAX_NOTE} characters")
    return NewComplaint(numbers[0], numbers[1], account.sid, account.family, line_campaign, line_source, received, note)


@complaint.command("import")
@click.argument("file", type=click.File("r", encoding="utf-8", errors="strict"))
@click.option("--account", "account_sid", required=True, help="The account that placed the calls (the opt-outs bind its family).")
@click.option("--source", type=click.Choice(COMPLAINT_SOURCES), help="Source of lines that name none.")
@click.option("--campaign", help="Campaign of lines that name none.")
@click.option("--skip-bad-lines", is_flag=True, help="Skip malformed lines (reported) instead of importing nothing.")
@actor_option
@records_options
@counters_options
@pass_cli
def complaint_import(
    cli: CliContext, file: IO[str], account_sid: str, source: str | None, campaign: str | None, skip_bad_lines: bool,
    actor_name: str | None,
) -> None:
    """Import complaints: CSV with a header row (number, caller_id, and optionally source,
    received_at, campaign, note: what ``list`` writes works too), or JSON lines with those keys."""
    account = cli.account(account_sid)
    campaign = cli.campaign(campaign)
    policy = cli.policy()
    name, lines = read_lines(file)
    bad_lines = BadLines(name, skip_bad_lines)
    now = time.time()
    entries: list[NewComplaint] = []
    for line_number, record in _records(lines, name):
        if isinstance(record, str):
            bad_lines.bad(line_number, record)
            continue
        try:
            entries.append(_entry(record, account, policy, source, campaign, now))
        except ValueError as exc:
            bad_lines.bad(line_number, str(exc))
    fired: list[str] = []
    if entries:
        _, fired = _Recorder(cli).record(entries, actor=actor(actor_name))
    click.echo(f"{name}: {len(entries)} complaints added, {bad_lines.skipped} lines skipped")
    for sentence in fired:
        click.echo(sentence)
