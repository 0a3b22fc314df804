"""``callguard registry build | apply-delta | info``."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import click
import numpy as np
import phonenumbers

from ..errors import ConfigError
from ..instants import BadInstant, parse_instant
from ..registry.builder import build as build_file
from ..registry.builder import install_file
from ..registry.format import EXTENSION, RegistryKind
from ..registry.parsers import MalformedLine, ParseReport, parse_e164, parse_ftc_changes, parse_nanp, parse_tps
from ..registry.reader import STALE_AFTER_DAYS, RegistryFile
from .errors import BadUsage

F = TypeVar("F", bound=Callable[..., Any])

FORMATS = {"ftc": RegistryKind.NANP, "dncl": RegistryKind.NANP, "tps": RegistryKind.SORTED, "e164": RegistryKind.SORTED}
DEFAULT_REGIONS = {
    "us_ftc": {"US", "PR", "VI", "GU", "AS", "MP"},
    "ca_dncl": {"CA"},
    "uk_tps": {"GB", "GG", "JE", "IM"},
    "uk_ctps": {"GB", "GG", "JE", "IM"},
}
FORMAT_REGIONS = {"ftc": DEFAULT_REGIONS["us_ftc"], "dncl": DEFAULT_REGIONS["ca_dncl"], "tps": DEFAULT_REGIONS["uk_tps"]}


def _directory_option(function: F) -> F:
    return click.option(
        "--dir", "directory", envvar="CALLGUARD_REGISTRY_DIR", default="registries", show_default=True, show_envvar=True,
        type=click.Path(file_okay=False), help="Directory of registry files.",
    )(function)


def _as_of(value: str | None, inputs: list[str]) -> float:
    if value is None:
        return max(os.path.getmtime(path) for path in inputs)
    try:
        return parse_instant(value)
    except BadInstant as exc:
        raise BadUsage(f"--as-of: {exc}") from None


def _regions(value: str | None, name: str, format_: str, keys: np.ndarray) -> set[str]:
    if value:
        given = {r.strip() for r in value.split(",") if r.strip()}
        unknown = sorted(r for r in given if r not in phonenumbers.SUPPORTED_REGIONS)
        if unknown:
            raise BadUsage(f"--regions: {unknown[0]!r} is not a region phonenumbers knows")
        return given
    if name in DEFAULT_REGIONS:
        return DEFAULT_REGIONS[name]
    if format_ in FORMAT_REGIONS:
        return FORMAT_REGIONS[format_]
    # A plain E.164 list covers every region of the calling codes it holds.
    regions: set[str] = set()
    digits = np.floor(np.log10(np.maximum(np.unique(keys // 10**6), 1))).astype(np.int64) + 7 if len(keys) else np.empty(0)
    for leading in np.unique(keys // 10 ** np.maximum(digits - 3, 0)).tolist() if len(keys) else []:
        text = str(leading)
        for length in (1, 2, 3):
            code = int(text[:length])
            if code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
                regions.update(r for r in phonenumbers.COUNTRY_CODE_TO_REGION_CODE[code] if r != "001")
                break
    return regions


def _parse(format_: str, inputs: list[str], skip: bool, report: ParseReport) -> np.ndarray:
    if format_ in ("ftc", "dncl"):
        return parse_nanp(inputs, skip_bad_lines=skip, report=report)
    if format_ == "tps":
        return parse_tps(inputs, skip_bad_lines=skip, report=report)
    return parse_e164(inputs, skip_bad_lines=skip, report=report)


def _summary(report: ParseReport) -> None:
    for skipped in report.skipped[:20]:
        click.echo(f"callguard: skipped {skipped}", err=True)
    if len(report.skipped) > 20:
        click.echo(f"callguard: … and {len(report.skipped) - 20} more malformed lines skipped", err=True)


@click.group()
def registry() -> None:
    """National Do-Not-Call registry files."""


@registry.command("build")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--name", required=True, help="Registry name: us_ftc, ca_dncl, uk_tps, uk_ctps, or your own.")
@click.option("--format", "format_", type=click.Choice(sorted(FORMATS)), required=True, help="Layout of the inputs.")
@click.option("--as-of", help="Date of the source data (default: the newest input's modification time).")
@click.option("--regions", help="Regions the registry covers, e.g. US,PR (default: by name or format).")
@click.option("--skip-bad-lines", is_flag=True, help="Skip malformed lines (listed) instead of failing.")
@_directory_option
def build_command(
    inputs: tuple[str, ...], name: str, format_: str, as_of: str | None, regions: str | None, skip_bad_lines: bool, directory: str
) -> None:
    """Compile registry downloads into DIR/NAME.cgreg (written atomically)."""
    if not name or not all(c.islower() or c.isdigit() or c == "_" for c in name):
        raise BadUsage("--name: use lower-case letters, digits and '_'")
    started = time.perf_counter()
    report = ParseReport()
    try:
        keys = _parse(format_, list(inputs), skip_bad_lines, report)
    except MalformedLine as exc:
        raise BadUsage(str(exc)) from None
    path = os.path.join(directory, name + EXTENSION)
    header = build_file(
        path, name=name, kind=FORMATS[format_], keys=keys, regions=_regions(regions, name, format_, keys), as_of=_as_of(as_of, list(inputs))
    )
    elapsed = time.perf_counter() - started
    _summary(report)
    click.echo(
        f"{name}: {header.count:,} numbers from {report.lines:,} lines ({len(report.skipped)} skipped) -> {path} "
        f"({os.path.getsize(path) / 1e6:.1f} MB) in {elapsed:.1f} s ({len(keys) / max(elapsed, 1e-9) / 1e6:.1f} M numbers/s)"
    )


@registry.command("apply-delta")
@click.argument("changes", nargs=-1, type=click.Path(exists=True, dir_okay=False))
@click.option("--name", required=True, help="The installed registry to change (us_ftc, ca_dncl …).")
@click.option("--format", "format_", type=click.Choice(["ftc-changes", *sorted(FORMATS)]), default="ftc-changes", show_default=True,
              help="ftc-changes for FTC change lists (CHANGES); otherwise the layout of --additions/--deletions files.")
@click.option("--additions", multiple=True, type=click.Path(exists=True, dir_okay=False), help="A file of numbers to add.")
@click.option("--deletions", multiple=True, type=click.Path(exists=True, dir_okay=False), help="A file of numbers to remove.")
@click.option("--as-of", help="Date of the change data (default: the newest change file's modification time).")
@click.option("--skip-bad-lines", is_flag=True, help="Skip malformed lines (listed) instead of failing.")
@_directory_option
def apply_delta(
    changes: tuple[str, ...], name: str, format_: str, additions: tuple[str, ...], deletions: tuple[str, ...],
    as_of: str | None, skip_bad_lines: bool, directory: str,
) -> None:
    """Apply additions and deletions to DIR/NAME.cgreg, replacing it atomically."""
    path = os.path.join(directory, name + EXTENSION)
    try:
        current = RegistryFile(path)
    except ConfigError as exc:
        raise BadUsage(str(exc)) from None
    report = ParseReport()
    try:
        if format_ == "ftc-changes":
            if not changes:
                raise BadUsage("give the FTC change-list files to apply")
            adds, removes = parse_ftc_changes(list(changes), skip_bad_lines=skip_bad_lines, report=report)
            sources = list(changes)
        else:
            if changes or not (additions or deletions):
                raise BadUsage(f"with --format {format_}, give --additions and/or --deletions files")
            adds = _parse(format_, list(additions), skip_bad_lines, report) if additions else np.empty(0, np.int64)
            removes = _parse(format_, list(deletions), skip_bad_lines, report) if deletions else np.empty(0, np.int64)
            sources = list(additions) + list(deletions)
    except MalformedLine as exc:
        raise BadUsage(str(exc)) from None
    if FORMATS.get(format_, RegistryKind.NANP) is not current.header.kind:
        raise BadUsage(f"{path}: a {current.header.kind.name.lower()} registry cannot take {format_} changes")
    old = current.keys()
    merged = np.setdiff1d(np.union1d(old, adds), removes, assume_unique=True)
    as_of_value = max(current.header.as_of, _as_of(as_of, sources)) if as_of is None else _as_of(as_of, sources)
    header = build_file(path, name=name, kind=current.header.kind, keys=merged, regions=current.regions, as_of=as_of_value)
    _summary(report)
    click.echo(f"{name}: {len(old):,} -> {header.count:,} numbers (+{len(adds):,} additions, -{len(removes):,} deletions applied)")


@registry.command("install")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@_directory_option
def install(files: tuple[str, ...], directory: str) -> None:
    """Put registry files built elsewhere into DIR, checked and atomically.

    Never copy over a registry file in place (cp): workers map it, and a file truncated under
    them takes them down. This copies to a temporary name in DIR and renames it over the old one.
    """
    for source in files:
        try:
            incoming = RegistryFile(source)
            incoming.verify()
        except ConfigError as exc:
            raise BadUsage(str(exc)) from None
        target = os.path.join(directory, incoming.name + EXTENSION)
        install_file(source, target)
        click.echo(f"{incoming.name}: {incoming.header.count:,} numbers installed as {target}")


@registry.command("info")
@click.option("--verify", is_flag=True, help="Also check every file's checksum (reads them whole).")
@_directory_option
def info(verify: bool, directory: str) -> None:
    """Each registry's regions, size and age; STALE when older than 31 days."""
    if not os.path.isdir(directory):
        raise BadUsage(f"{directory}: no such directory")
    now = time.time()
    found = False
    problems = 0
    for filename in sorted(os.listdir(directory)):
        if not filename.endswith(EXTENSION) or filename.startswith("."):
            continue
        found = True
        path = os.path.join(directory, filename)
        try:
            registry_file = RegistryFile(path)
            if verify:
                registry_file.verify()
        except ConfigError as exc:
            click.echo(f"callguard: {exc}", err=True)
            problems += 1
            continue
        i = registry_file.info()
        age = i.age_days(now)
        as_of = datetime.fromtimestamp(i.as_of, tz=UTC).strftime("%Y-%m-%d")
        flag = f"  STALE (older than {STALE_AFTER_DAYS:.0f} days)" if i.is_stale(now) else ""
        regions = ",".join(sorted(i.regions))
        click.echo(f"{i.name}\t{regions}\t{i.count:,} numbers\t{i.size_bytes / 1e6:.1f} MB\tas of {as_of}\t{age:.1f} days old{flag}")
    if not found:
        click.echo(f"{directory}: no registry files")
    if problems:  # each was reported above
        raise click.exceptions.Exit(1)
