"""``callguard optout …`` and ``callguard consent …``: the internal Do-Not-Call list and consent records.

Numbers are read with the account's default region and stored in E.164, per account family
(the account's root). An import writes nothing unless every line is good (or
``--skip-bad-lines`` is given); a bad line stops it with one line naming the file and line.
"""

from __future__ import annotations

import csv
import sys
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import IO

import click

from ..csv_cells import safe_row
from ..instants import BadInstant, parse_instant
from ..numbers.e164 import valid_e164
from ..records import CONSENT_KINDS, OptOut
from ..store.consents import ConsentStore
from ..store.optouts import OptOutStore
from .context import CliContext, actor, pass_cli, records_options
from .errors import BadUsage, Failed
from .input_lines import BadLines, read_lines

_EXPORT_FIELDS = ("number", "account_sid", "campaign", "source", "created_at", "call_sid", "note")


def _iso(epoch: float | None) -> str:
    return "" if epoch is None else datetime.fromtimestamp(epoch, tz=UTC).isoformat(timespec="seconds")


def _timestamp(value: str, option: str) -> float:
    try:
        return parse_instant(value)
    except BadInstant as exc:
        raise BadUsage(f"{option}: {exc}") from None


@click.group()
def optout() -> None:
    """The internal Do-Not-Call list (opt-outs)."""


@optout.command("add")
@click.argument("number")
@click.option("--account", "account_sid", required=True, help="Account (the opt-out binds its whole family).")
@click.option("--campaign", help="Only this campaign (default: every campaign).")
@click.option("--note", help="Why, for the record.")
@records_options
@pass_cli
def optout_add(cli: CliContext, number: str, account_sid: str, campaign: str | None, note: str | None) -> None:
    """Record an opt-out."""
    account = cli.account(account_sid)
    e164 = cli.number(number, account)
    campaign = cli.campaign(campaign)
    added = OptOutStore(cli.engine()).add(
        e164, account.family, campaign=campaign, source="admin", now=time.time(), note=note, actor=actor()
    )
    click.echo(f"{e164}: {'opted out' if added else 'already opted out'} (account family {account.family}, {campaign or 'every campaign'})")


@optout.command("remove")
@click.argument("number")
@click.option("--account", "account_sid", required=True, help="Account (the opt-out was recorded for its whole family).")
@click.option("--campaign", help="The campaign the opt-out was for (default: every campaign).")
@records_options
@pass_cli
def optout_remove(cli: CliContext, number: str, account_sid: str, campaign: str | None) -> None:
    """Delete an opt-out recorded in error."""
    account = cli.account(account_sid)
    e164 = cli.number(number, account)
    campaign = cli.campaign(campaign)
    if not OptOutStore(cli.engine()).remove(e164, account.family, campaign=campaign, actor=actor(), now=time.time()):
        raise Failed(f"{e164}: no opt-out for account family {account.family} ({campaign or 'every campaign'})")
    click.echo(f"{e164}: opt-out removed")


def _write_optouts(records: Iterable[OptOut]) -> None:
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(_EXPORT_FIELDS)
    for r in records:
        writer.writerow(safe_row((r.number, r.account_sid, r.campaign, r.source, _iso(r.created_at), r.call_sid, r.note)))


@optout.command("list")
@click.option("--account", "account_sid", help="Only this account's family.")
@click.option("--number", help="Only this number, in any format (read with the account's region, else the policy's default).")
@records_options
@pass_cli
def optout_list(cli: CliContext, account_sid: str | None, number: str | None) -> None:
    """List opt-outs (CSV)."""
    cli.policy()
    account = cli.account(account_sid) if account_sid else None
    e164 = cli.number(number, account, "--number") if number is not None else None
    _write_optouts(OptOutStore(cli.engine()).list(account_sid=account.family if account else None, number=e164))


@optout.command("export")
@click.option("--account", "account_sid", help="Only this account's family.")
@records_options
@pass_cli
def optout_export(cli: CliContext, account_sid: str | None) -> None:
    """Write every opt-out as CSV (the format ``import`` reads back)."""
    cli.policy()
    family = cli.account(account_sid).family if account_sid else None
    _write_optouts(OptOutStore(cli.engine()).list(account_sid=family))


def _line_campaign(fields: list[str]) -> str | None:
    if len(fields) >= 3 and fields[1].startswith("AC"):  # a row written by export: number,account_sid,campaign,…
        campaign = fields[2]
    elif len(fields) == 2:  # number,campaign
        campaign = fields[1]
    else:
        return None
    return None if campaign in ("", "*") else campaign


@optout.command("import")
@click.argument("file", type=click.File("r", encoding="utf-8", errors="strict"))
@click.option("--account", "account_sid", required=True, help="Account (the opt-outs bind its whole family).")
@click.option("--campaign", help="Campaign for lines that name none (default: every campaign).")
@click.option("--skip-bad-lines", is_flag=True, help="Skip malformed lines (reported) instead of importing nothing.")
@records_options
@pass_cli
def optout_import(cli: CliContext, file: IO[str], account_sid: str, campaign: str | None, skip_bad_lines: bool) -> None:
    """Import opt-outs: one number per line, optionally ``,campaign`` (a CSV written by ``export`` works too)."""
    account = cli.account(account_sid)
    campaign = cli.campaign(campaign)
    policy = cli.policy()
    store = OptOutStore(cli.engine())
    name, lines = read_lines(file)
    bad_lines = BadLines(name, skip_bad_lines)
    entries: list[tuple[str, str | None]] = []
    for line_number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        fields = [f.strip() for f in text.split(",")]
        if line_number == 1 and fields[0].lower() == "number":
            continue  # a header, as export writes
        number = valid_e164(fields[0], account.default_region)
        line_campaign = _line_campaign(fields) or campaign
        if number is None:
            problem = f"{fields[0]!r} is not a valid phone number (read with region {account.default_region})"
        elif line_campaign is not None and policy.campaign(line_campaign) is None:
            problem = f"{line_campaign!r} is not a campaign in {policy.source}"
        else:
            entries.append((number, line_campaign))
            continue
        bad_lines.bad(line_number, problem)
    added = store.add_many(entries, account.family, source="import", now=time.time(), actor=actor())
    click.echo(f"{name}: {added} opt-outs added, {len(entries) - added} already present, {bad_lines.skipped} lines skipped")


@click.group()
def consent() -> None:
    """Consent records, which let a campaign call a number on a national registry."""


@consent.command("add")
@click.argument("number")
@click.option("--account", "account_sid", required=True, help="Account (the consent covers its whole family).")
@click.option(
    "--kind", type=click.Choice(CONSENT_KINDS), default="prior_express_written", show_default=True, help="What the callee agreed to."
)
@click.option("--obtained-at", required=True, help="When consent was given (ISO 8601).")
@click.option("--expires", help="When it lapses (ISO 8601).")
@click.option("--campaign", help="Only this campaign (default: every campaign).")
@click.option("--evidence", help="Where the proof is kept (URL, document ID).")
@records_options
@pass_cli
def consent_add(
    cli: CliContext,
    number: str,
    account_sid: str,
    kind: str,
    obtained_at: str,
    expires: str | None,
    campaign: str | None,
    evidence: str | None,
) -> None:
    """Record a consent."""
    account = cli.account(account_sid)
    e164 = cli.number(number, account)
    campaign = cli.campaign(campaign)
    obtained = _timestamp(obtained_at, "--obtained-at")
    expires_at = _timestamp(expires, "--expires") if expires else None
    consent_id = ConsentStore(cli.engine()).add(
        e164, account.family, kind=kind, obtained_at=obtained, expires_at=expires_at, campaign=campaign, evidence=evidence,
        now=time.time(), actor=actor(),
    )
    click.echo(f"consent {consent_id}: {e164} ({kind}, {campaign or 'every campaign'})")


@consent.command("list")
@click.option("--account", "account_sid", help="Only this account's family.")
@click.option("--number", help="Only this number, in any format (read with the account's region, else the policy's default).")
@records_options
@pass_cli
def consent_list(cli: CliContext, account_sid: str | None, number: str | None) -> None:
    """List consent records (CSV)."""
    cli.policy()
    account = cli.account(account_sid) if account_sid else None
    e164 = cli.number(number, account, "--number") if number is not None else None
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(("id", "number", "account_sid", "campaign", "kind", "obtained_at", "expires_at", "evidence", "revoked_at"))
    for c in ConsentStore(cli.engine()).list(account_sid=account.family if account else None, number=e164):
        writer.writerow(
            safe_row(
                (
                    c.id,
                    c.number,
                    c.account_sid,
                    c.campaign,
                    c.kind,
                    _iso(c.obtained_at),
                    _iso(c.expires_at),
                    c.evidence,
                    _iso(c.revoked_at),
                )
            )
        )


@consent.command("revoke")
@click.argument("consent_id", type=int)
@click.option("--reason", default="revoked by an administrator", show_default=True, help="Why, for the record.")
@records_options
@pass_cli
def consent_revoke(cli: CliContext, consent_id: int, reason: str) -> None:
    """Revoke a consent record."""
    cli.policy()  # the policy must load, as for every records command
    if not ConsentStore(cli.engine()).revoke(consent_id, now=time.time(), reason=reason, actor=actor()):
        raise Failed(f"consent {consent_id}: no such consent, or already revoked")
    click.echo(f"consent {consent_id}: revoked")
