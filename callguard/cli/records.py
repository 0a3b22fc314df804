"""``callguard optout …`` and ``callguard consent …``: the internal Do-Not-Call list and consent records.

Numbers are read with the account's default region and stored in E.164, per account family
(the account's root). Bad input stops the command with one line naming the file and line, and
an import writes nothing unless every line is good (or ``--skip-bad-lines`` is given).
"""

from __future__ import annotations

import csv
import getpass
import os
import sys
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Iterator, NoReturn

import click

from ..runtime.settings import auto_migrate
from ..errors import CallguardError
from ..numbers.classify import classify_number
from ..numbers.dialstring import TargetKind, normalize_dial_string
from ..policy.loader import load_policy
from ..policy.model import Account, Policy
from ..records import CONSENT_KINDS
from ..store.consents import ConsentStore
from ..store.database import create_database_engine, default_database_url
from ..store.optouts import OptOutStore
from ..store.migrate import ensure_schema


def _fail(message: str, code: int = 1) -> NoReturn:
    click.echo(f"callguard: {message}", err=True)
    sys.exit(code)


def _records_options(function: Any) -> Any:
    function = click.option(
        "--database-url", envvar="CALLGUARD_DATABASE_URL", show_envvar=True, help="Records database (default: ./callguard.db)."
    )(function)
    return click.option(
        "--policy", "-p", "policy_path", envvar="CALLGUARD_POLICY", show_envvar=True, type=click.Path(dir_okay=False), help="Policy file."
    )(function)


@contextmanager
def _context(policy_path: str | None, database_url: str | None) -> Iterator[tuple[Policy, Any]]:
    if not policy_path:
        _fail("--policy: no policy file given (or set CALLGUARD_POLICY)", 2)
    try:
        policy = load_policy(policy_path)
        url = database_url or default_database_url()
        engine = create_database_engine(url)
        ensure_schema(engine, upgrade=auto_migrate(os.environ, url))
    except CallguardError as exc:
        _fail(str(exc), 2)
    except Exception as exc:
        _fail(f"CALLGUARD_DATABASE_URL: cannot open the database: {str(exc).splitlines()[0]}", 2)
    try:
        yield policy, engine
    except CallguardError as exc:
        _fail(str(exc))
    finally:
        engine.dispose()


def cli_actor(actor: str | None = None) -> str:
    """Who the change log names for a change made with the CLI: ``--actor``, else ``cli:<user>``."""
    if actor:
        return actor
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no user name in this environment
        return "cli"


def _account(policy: Policy, sid: str) -> Account:
    account = policy.account(sid)
    if account is None:
        _fail(f"--account: {sid} is not an account in {policy.source}", 2)
    return account


def normalize_number(raw: str, region: str) -> str | None:
    """``raw`` as a valid E.164 number, or None."""
    target = normalize_dial_string(raw, default_region=region, emergency_regions=())
    if target.kind is not TargetKind.PSTN or not classify_number(target.e164).valid:  # type: ignore[arg-type]
        return None
    return target.e164


def _number(raw: str, account: Account, what: str = "NUMBER") -> str:
    number = normalize_number(raw, account.default_region)
    if number is None:
        _fail(f"{what}: {raw!r} is not a valid phone number (read with region {account.default_region})", 2)
    return number


def _filter_number(raw: str | None, policy: Policy, account: Account | None) -> str | None:
    """A ``--number`` filter as stored (E.164), read with the account's region (else the policy's default)."""
    if raw is None:
        return None
    region = account.default_region if account is not None else policy.defaults.default_region
    number = normalize_number(raw, region)
    if number is None:
        _fail(f"--number: {raw!r} is not a valid phone number (read with region {region})", 2)
    return number


def _campaign(policy: Policy, campaign_id: str | None, where: str = "--campaign") -> str | None:
    """``campaign_id`` if the policy defines it (None for every campaign); one line and exit 2 otherwise."""
    if campaign_id is None or policy.campaign(campaign_id) is not None:
        return campaign_id
    known = ", ".join(sorted(policy.campaigns)) or "none"
    _fail(f"{where}: {campaign_id!r} is not a campaign in {policy.source} (its campaigns: {known})", 2)


def _iso(epoch: float | None) -> str:
    return "" if epoch is None else datetime.fromtimestamp(epoch, tz=timezone.utc).isoformat(timespec="seconds")


def _timestamp(value: str, option: str) -> float:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        _fail(f"{option}: {value!r} is not an ISO 8601 date or date-time", 2)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


@click.group()
def optout() -> None:
    """The internal Do-Not-Call list (opt-outs)."""


@optout.command("add")
@click.argument("number")
@click.option("--account", "account_sid", required=True, help="Account (the opt-out binds its whole family).")
@click.option("--campaign", help="Only this campaign (default: every campaign).")
@click.option("--note", help="Why, for the record.")
@_records_options
def optout_add(number: str, account_sid: str, campaign: str | None, note: str | None, policy_path: str | None, database_url: str | None) -> None:
    """Record an opt-out."""
    with _context(policy_path, database_url) as (policy, engine):
        account = _account(policy, account_sid)
        e164 = _number(number, account)
        campaign = _campaign(policy, campaign)
        added = OptOutStore(engine).add(e164, account.family, campaign=campaign, source="admin", now=time.time(), note=note, actor=cli_actor())
        click.echo(f"{e164}: {'opted out' if added else 'already opted out'} (account family {account.family}, {campaign or 'every campaign'})")


@optout.command("remove")
@click.argument("number")
@click.option("--account", "account_sid", required=True, help="Account (the opt-out was recorded for its whole family).")
@click.option("--campaign", help="The campaign the opt-out was for (default: every campaign).")
@_records_options
def optout_remove(number: str, account_sid: str, campaign: str | None, policy_path: str | None, database_url: str | None) -> None:
    """Delete an opt-out recorded in error."""
    with _context(policy_path, database_url) as (policy, engine):
        account = _account(policy, account_sid)
        e164 = _number(number, account)
        campaign = _campaign(policy, campaign)
        if not OptOutStore(engine).remove(e164, account.family, campaign=campaign, actor=cli_actor(), now=time.time()):
            _fail(f"{e164}: no opt-out for account family {account.family} ({campaign or 'every campaign'})")
        click.echo(f"{e164}: opt-out removed")


_EXPORT_FIELDS = ("number", "account_sid", "campaign", "source", "created_at", "call_sid", "note")


def _write_optouts(records: Any) -> None:
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(_EXPORT_FIELDS)
    for r in records:
        writer.writerow((r.number, r.account_sid, r.campaign, r.source, _iso(r.created_at), r.call_sid or "", r.note or ""))


@optout.command("list")
@click.option("--account", "account_sid", help="Only this account's family.")
@click.option("--number", help="Only this number, in any format (read with the account's region, else the policy's default).")
@_records_options
def optout_list(account_sid: str | None, number: str | None, policy_path: str | None, database_url: str | None) -> None:
    """List opt-outs (CSV)."""
    with _context(policy_path, database_url) as (policy, engine):
        account = _account(policy, account_sid) if account_sid else None
        e164 = _filter_number(number, policy, account)
        _write_optouts(OptOutStore(engine).list(account_sid=account.family if account else None, number=e164))


@optout.command("export")
@click.option("--account", "account_sid", help="Only this account's family.")
@_records_options
def optout_export(account_sid: str | None, policy_path: str | None, database_url: str | None) -> None:
    """Write every opt-out as CSV (the format ``import`` reads back)."""
    with _context(policy_path, database_url) as (policy, engine):
        family = _account(policy, account_sid).family if account_sid else None
        _write_optouts(OptOutStore(engine).list(account_sid=family))


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
@_records_options
def optout_import(
    file: Any, account_sid: str, campaign: str | None, skip_bad_lines: bool, policy_path: str | None, database_url: str | None
) -> None:
    """Import opt-outs: one number per line, optionally ``,campaign`` (a CSV written by ``export`` works too)."""
    with _context(policy_path, database_url) as (policy, engine):
        account = _account(policy, account_sid)
        campaign = _campaign(policy, campaign)
        entries: list[tuple[str, str | None]] = []
        skipped = 0
        name = getattr(file, "name", "<stdin>")
        try:
            lines = list(file)
        except UnicodeDecodeError:
            _fail(f"{name}: not UTF-8 text")
        for line_number, line in enumerate(lines, start=1):
            text = line.strip()
            if not text or text.startswith("#"):
                continue
            fields = [f.strip() for f in text.split(",")]
            if line_number == 1 and fields[0].lower() == "number":
                continue  # a header, as export writes
            number = normalize_number(fields[0], account.default_region)
            line_campaign = _line_campaign(fields) or campaign
            if number is None:
                problem = f"{fields[0]!r} is not a valid phone number (read with region {account.default_region})"
            elif line_campaign is not None and policy.campaign(line_campaign) is None:
                problem = f"{line_campaign!r} is not a campaign in {policy.source}"
            else:
                entries.append((number, line_campaign))
                continue
            message = f"{name}:{line_number}: {problem}"
            if not skip_bad_lines:
                _fail(message)
            click.echo(f"callguard: skipped {message}", err=True)
            skipped += 1
        added = OptOutStore(engine).add_many(entries, account.family, source="import", now=time.time(), actor=cli_actor())
        click.echo(f"{name}: {added} opt-outs added, {len(entries) - added} already present, {skipped} lines skipped")


@click.group()
def consent() -> None:
    """Consent records, which let a campaign call a number on a national registry."""


@consent.command("add")
@click.argument("number")
@click.option("--account", "account_sid", required=True, help="Account (the consent covers its whole family).")
@click.option("--kind", type=click.Choice(CONSENT_KINDS), default="prior_express_written", show_default=True, help="What the callee agreed to.")
@click.option("--obtained-at", required=True, help="When consent was given (ISO 8601).")
@click.option("--expires", help="When it lapses (ISO 8601).")
@click.option("--campaign", help="Only this campaign (default: every campaign).")
@click.option("--evidence", help="Where the proof is kept (URL, document ID).")
@_records_options
def consent_add(
    number: str,
    account_sid: str,
    kind: str,
    obtained_at: str,
    expires: str | None,
    campaign: str | None,
    evidence: str | None,
    policy_path: str | None,
    database_url: str | None,
) -> None:
    """Record a consent."""
    with _context(policy_path, database_url) as (policy, engine):
        account = _account(policy, account_sid)
        e164 = _number(number, account)
        campaign = _campaign(policy, campaign)
        consent_id = ConsentStore(engine).add(
            e164,
            account.family,
            kind=kind,
            obtained_at=_timestamp(obtained_at, "--obtained-at"),
            expires_at=_timestamp(expires, "--expires") if expires else None,
            campaign=campaign,
            evidence=evidence,
            now=time.time(),
            actor=cli_actor(),
        )
        click.echo(f"consent {consent_id}: {e164} ({kind}, {campaign or 'every campaign'})")


@consent.command("list")
@click.option("--account", "account_sid", help="Only this account's family.")
@click.option("--number", help="Only this number, in any format (read with the account's region, else the policy's default).")
@_records_options
def consent_list(account_sid: str | None, number: str | None, policy_path: str | None, database_url: str | None) -> None:
    """List consent records (CSV)."""
    with _context(policy_path, database_url) as (policy, engine):
        account = _account(policy, account_sid) if account_sid else None
        family = account.family if account is not None else None
        number = _filter_number(number, policy, account)
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(("id", "number", "account_sid", "campaign", "kind", "obtained_at", "expires_at", "evidence", "revoked_at"))
        for c in ConsentStore(engine).list(account_sid=family, number=number):
            writer.writerow(
                (c.id, c.number, c.account_sid, c.campaign, c.kind, _iso(c.obtained_at), _iso(c.expires_at), c.evidence or "", _iso(c.revoked_at))
            )


@consent.command("revoke")
@click.argument("consent_id", type=int)
@click.option("--reason", default="revoked by an administrator", show_default=True, help="Why, for the record.")
@_records_options
def consent_revoke(consent_id: int, reason: str, policy_path: str | None, database_url: str | None) -> None:
    """Revoke a consent record."""
    with _context(policy_path, database_url) as (policy, engine):
        if not ConsentStore(engine).revoke(consent_id, now=time.time(), reason=reason, actor=cli_actor()):
            _fail(f"consent {consent_id}: no such consent, or already revoked")
        click.echo(f"consent {consent_id}: revoked")
