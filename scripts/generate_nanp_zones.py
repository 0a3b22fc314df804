"""Regenerate callguard/hours/data/nanp_zones.toml: every time zone of every NANP area code.

Calling hours hold in the callee's local time, and phonenumbers gives many split area codes a
single zone (Florida's 850: New York only, though Pensacola keeps Central time). For each
geographic area code in service that phonenumbers knows (US, Canada and the other NANP
regions), this unites every zone phonenumbers gives any of its prefixes with the sourced
corrections of scripts/data/nanp_zone_corrections.toml, and for the places of split area codes
the corrections list, writes an NPA-NXX row from phonenumbers' geocoder (loaded here only, never
by callguard at run time). Every zone name is checked with zoneinfo; the output is the same
bytes for the same inputs. Run after upgrading phonenumbers or editing the corrections:

    python scripts/generate_nanp_zones.py
"""

from __future__ import annotations

import datetime
import re
import sys
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import timezone as pn_timezone
from phonenumbers.tzdata import TIMEZONE_DATA

ROOT = Path(__file__).resolve().parent.parent
CORRECTIONS = ROOT / "scripts" / "data" / "nanp_zone_corrections.toml"
OUTPUT = ROOT / "callguard" / "hours" / "data" / "nanp_zones.toml"
EXCHANGES = range(200, 1000)


@dataclass
class Row:
    zones: set[str]
    sources: list[str] = field(default_factory=list)
    read: datetime.date | None = None
    place: str | None = None

    def cite(self, source: str, read: datetime.date) -> None:
        self.sources.append(source)
        self.read = max(self.read, read) if self.read is not None else read


@dataclass
class Table:
    sources: dict[str, tuple[str, datetime.date]]  # id -> (what it says, when it was read)
    npa: dict[str, Row]
    npa_nxx: dict[str, Row]


def _number(npa: int | str, nxx: int) -> phonenumbers.PhoneNumber:
    return phonenumbers.PhoneNumber(country_code=1, national_number=int(f"{npa}{nxx}0100"))


def phonenumbers_zones(prefix: str) -> set[str]:
    """Every zone phonenumbers gives ``prefix`` (``"1850"``) or any longer prefix within it."""
    return {z for key, names in TIMEZONE_DATA.items() if key.startswith(prefix) for z in names if z != "Etc/Unknown"}


def geographic_npas() -> dict[str, str]:
    """Area code -> region, for every area code phonenumbers has time-zone data of its own for
    and a valid exchange in (toll-free and other non-geographic codes have neither)."""
    found: dict[str, str] = {}
    candidates = sorted({key[1:4] for key in TIMEZONE_DATA if key.startswith("1") and len(key) >= 4})
    for npa in candidates:
        for nxx in EXCHANGES:
            region = phonenumbers.region_code_for_number(_number(npa, nxx))
            if region is not None:
                found[npa] = region
                break
    return found


def _check_zones(zones: Iterable[str], where: str) -> None:
    for name in zones:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise SystemExit(f"{where}: {name!r} is not a zone zoneinfo knows") from exc


def _read(entry: Mapping[str, Any], where: str) -> tuple[str, str, datetime.date]:
    ident, source, read = entry.get("id"), entry.get("source"), entry.get("read")
    if not isinstance(ident, str) or not re.fullmatch(r"[a-z0-9-]+", ident):
        raise SystemExit(f"{where}: every correction needs an id of lowercase letters, digits and dashes")
    if not isinstance(source, str) or not source or not isinstance(read, datetime.date):
        raise SystemExit(f"{where}: every correction needs a source and the date it was read (read = YYYY-MM-DD)")
    return ident, source, read


def build(corrections: Mapping[str, Any], name: str = CORRECTIONS.name) -> Table:
    """The table; ``name`` names the corrections file in errors."""
    pn_read = corrections["phonenumbers_read"]
    table = Table({"phonenumbers": (f"phonenumbers {phonenumbers.__version__}: time-zone data and geocoder", pn_read)}, {}, {})

    def source(entry: Mapping[str, Any], where: str) -> tuple[str, datetime.date]:
        ident, text, read = _read(entry, where)
        if ident in table.sources:
            raise SystemExit(f"{where}: the id {ident!r} is used twice")
        table.sources[ident] = (text, read)
        return ident, read

    for npa in geographic_npas():
        row = table.npa[npa] = Row(phonenumbers_zones(f"1{npa}"))
        row.cite("phonenumbers", pn_read)
    for index, entry in enumerate(corrections.get("npa", [])):
        where = f"{name}: npa[{index}]"
        ident, read = source(entry, where)
        _check_zones(entry["add"], where)
        for npa in entry["npas"]:
            if npa not in table.npa:
                raise SystemExit(f"{where}: {npa} is not a geographic area code phonenumbers knows")
            table.npa[npa].zones.update(entry["add"])
            table.npa[npa].cite(ident, read)

    from phonenumbers.geocoder import description_for_valid_number  # ~100 MB: the script's alone

    by_npa: dict[str, list[tuple[Mapping[str, Any], str]]] = {}
    for index, entry in enumerate(corrections.get("places", [])):
        by_npa.setdefault(entry["npa"], []).append((entry, f"{name}: places[{index}]"))
    for npa, entries in sorted(by_npa.items()):
        if npa not in table.npa:
            raise SystemExit(f"{entries[0][1]}: {npa} is not a geographic area code phonenumbers knows")
        places: dict[str, tuple[list[str], str, datetime.date]] = {}
        for entry, where in entries:
            ident, read = source(entry, where)
            _check_zones(entry["zones"], where)
            for place in entry["places"]:
                if place in places:
                    raise SystemExit(f"{where}: {place!r} is listed twice for {npa}")
                places[place] = (entry["zones"], ident, read)
        seen: set[str] = set()
        for nxx in EXCHANGES:
            number = _number(npa, nxx)
            if not phonenumbers.is_valid_number(number):
                continue
            place = description_for_valid_number(number, "en")
            if place not in places:
                continue
            seen.add(place)
            zones, ident, read = places[place]
            own = set(zones) | {z for z in pn_timezone.time_zones_for_geographical_number(number) if z != "Etc/Unknown"}
            if own != table.npa[npa].zones:
                row = table.npa_nxx[f"{npa}{nxx}"] = Row(own, place=place)
                row.cite("phonenumbers", pn_read)
                row.cite(ident, read)
        missing = sorted(set(places) - seen)
        if missing:
            raise SystemExit(f"{name}: no exchange of {npa} is in {', '.join(missing)} (phonenumbers' geocoder)")
    return table


def _string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _strings(texts: Iterable[str]) -> str:
    return "[" + ", ".join(map(_string, texts)) + "]"


def _line(key: str, row: Row) -> str:
    place = f"place = {_string(row.place)}, " if row.place is not None else ""
    return f'"{key}" = {{ zones = {_strings(sorted(row.zones))}, {place}sources = {_strings(row.sources)}, read = {row.read} }}'


HEADER = """\
# Every IANA time zone the territory of each NANP area code uses, for calling hours: the window
# must hold in each of them (callguard.hours.zones). Generated by scripts/generate_nanp_zones.py
# from phonenumbers {version} and scripts/data/nanp_zone_corrections.toml. Do not edit by hand:
# correct the corrections file and run `python scripts/generate_nanp_zones.py`.
#
# [sources]: what each source a row names says, and when it was read.
# [npa]: one row per geographic area code in service ({npas} rows): every zone phonenumbers gives
# any prefix of it, united with the corrections.
# [npa_nxx]: one row per exchange ({exchanges} rows) in a place of a split area code that the
# corrections give the zones of (the place as phonenumbers' geocoder names it), where those differ
# from the area code's row: the place's zones and phonenumbers' for the exchange.
# At run time an exchange's row, else its area code's, is united with phonenumbers' zones for the
# number. Toll-free and other non-geographic codes (800, 500, 900 ...) have no row.
"""


def render(table: Table) -> str:
    lines = [HEADER.format(version=phonenumbers.__version__, npas=len(table.npa), exchanges=len(table.npa_nxx)), "[sources]"]
    lines += [f"{ident} = {{ source = {_string(text)}, read = {read} }}" for ident, (text, read) in table.sources.items()]
    lines += ["", "[npa]"]
    lines += [_line(npa, row) for npa, row in sorted(table.npa.items())]
    lines += ["", "[npa_nxx]"]
    lines += [_line(key, row) for key, row in sorted(table.npa_nxx.items())]
    return "\n".join(lines) + "\n"


def generate(out: Path = OUTPUT, corrections: Path = CORRECTIONS) -> Path:
    text = render(build(tomllib.loads(corrections.read_text(encoding="utf-8")), corrections.name))
    tomllib.loads(text)  # what is written parses
    out.write_bytes(text.encode("utf-8"))
    return out


def main(argv: list[str]) -> None:
    out = generate(Path(argv[0]) if argv else OUTPUT)
    print(f"wrote {out}")


if __name__ == "__main__":
    main(sys.argv[1:])
