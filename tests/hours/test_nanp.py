"""The shipped NANP time-zone table (callguard.hours.nanp) and the script that writes it
(scripts/generate_nanp_zones.py)."""

from __future__ import annotations

import datetime
import importlib.util
import sys
import tomllib
from functools import cache
from importlib import resources
from pathlib import Path
from types import ModuleType
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers
import pytest
from phonenumbers import timezone as pn_timezone
from phonenumbers.tzdata import TIMEZONE_DATA

from callguard.hours.nanp import nanp_zone_table

ROOT = Path(__file__).resolve().parents[2]


@cache
def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_nanp_zones", ROOT / "scripts" / "generate_nanp_zones.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@cache
def shipped() -> dict[str, Any]:
    return tomllib.loads(resources.files("callguard.hours").joinpath("data/nanp_zones.toml").read_text("utf-8"))


def number(national: str) -> phonenumbers.PhoneNumber:
    return phonenumbers.PhoneNumber(country_code=1, national_number=int(national))


@cache
def npas_in_service() -> dict[str, str]:
    """Every area code with an exchange phonenumbers takes as valid, found the slow way: -> region."""
    found = {}
    for npa in range(200, 1000):
        for nxx in range(200, 1000):
            region = phonenumbers.region_code_for_number(number(f"{npa}{nxx}0100"))
            if region is not None:
                found[str(npa)] = region
                break
    return found


def test_every_geographic_area_code_in_service_has_a_row() -> None:
    table = nanp_zone_table()
    in_service = npas_in_service()
    missing = sorted(npa for npa in in_service if npa not in table.npa and any(k.startswith(f"1{npa}") for k in TIMEZONE_DATA))
    assert missing == []
    assert set(table.npa) <= set(in_service)
    # Those without a row are the non-geographic codes: toll-free, 5XX personal numbers, 900 ...
    assert {"800", "833", "888", "500", "900"} <= set(in_service) - set(table.npa)
    regions = {in_service[npa] for npa in table.npa}
    assert {"US", "CA", "JM", "PR", "BS", "GU", "AS", "MP", "VI", "DO", "BM", "TT"} <= regions


def test_every_row_holds_every_zone_phonenumbers_gives() -> None:
    table = nanp_zone_table()
    for npa, zones in table.npa.items():
        given = {z for key, names in TIMEZONE_DATA.items() if key.startswith(f"1{npa}") for z in names}
        assert given - {"Etc/Unknown"} <= set(zones), npa
    for exchange, zones in table.npa_nxx.items():
        given = set(pn_timezone.time_zones_for_geographical_number(number(f"{exchange}0100")))
        assert given <= set(zones), exchange


def test_every_row_names_real_zones_its_sources_and_when_they_were_read() -> None:
    data = shipped()
    sources = data["sources"]
    assert all(set(entry) == {"source", "read"} and isinstance(entry["read"], datetime.date) for entry in sources.values())
    used = set()
    for scope, keys in (("npa", {"zones", "sources", "read"}), ("npa_nxx", {"zones", "place", "sources", "read"})):
        for key, row in data[scope].items():
            assert set(row) == keys, key
            assert row["sources"][0] == "phonenumbers" and set(row["sources"]) <= set(sources), key
            assert row["read"] == max(sources[s]["read"] for s in row["sources"]), key
            assert row["zones"] == sorted(set(row["zones"])), key
            for name in row["zones"]:
                ZoneInfo(name)
            used.update(row["sources"])
    assert used == set(sources)  # every correction shaped some row


@pytest.mark.parametrize(
    "npa, zones",
    [
        ("850", {"America/New_York", "America/Chicago"}),
        ("928", {"America/Phoenix", "America/Denver"}),  # the Navajo Nation keeps DST
        ("541", {"America/Los_Angeles", "America/Boise"}),  # Malheur County
        ("458", {"America/Los_Angeles", "America/Boise"}),
        ("812", {"America/New_York", "America/Chicago", "America/Indiana/Tell_City", "America/Indiana/Vincennes"}),
        ("574", {"America/Indiana/Knox", "America/Indiana/Winamac"}),
        ("906", {"America/Menominee", "America/Detroit"}),
        ("606", {"America/Kentucky/Monticello"}),
        ("364", {"America/Chicago", "America/New_York"}),
        ("334", {"America/Chicago", "America/New_York"}),  # Phenix City
        ("432", {"America/Chicago", "America/Denver"}),
        ("907", {"America/Anchorage", "America/Adak", "America/Metlakatla", "America/Sitka", "America/Nome"}),
        ("701", {"America/North_Dakota/Beulah", "America/North_Dakota/New_Salem", "America/Denver"}),
        ("250", {"America/Vancouver", "America/Edmonton", "America/Creston", "America/Dawson_Creek", "America/Fort_Nelson"}),
        ("672", {"America/Vancouver", "America/Edmonton", "America/Creston"}),
        ("306", {"America/Regina", "America/Swift_Current", "America/Edmonton", "America/Winnipeg"}),
        ("474", {"America/Regina", "America/Edmonton", "America/Winnipeg"}),
        ("807", {"America/Toronto", "America/Winnipeg", "America/Atikokan"}),
        ("418", {"America/Toronto", "America/Halifax", "America/Blanc-Sablon"}),
        ("367", {"America/Toronto", "America/Halifax", "America/Blanc-Sablon"}),
        ("709", {"America/St_Johns", "America/Halifax", "America/Goose_Bay"}),
        (
            "867",
            {
                "America/Whitehorse", "America/Dawson", "America/Edmonton", "America/Inuvik", "America/Iqaluit",
                "America/Rankin_Inlet", "America/Cambridge_Bay", "America/Resolute", "America/Atikokan",
            },
        ),
    ],
)
def test_split_area_codes_have_every_zone(npa: str, zones: set[str]) -> None:
    assert zones <= set(nanp_zone_table().npa[npa])


def test_exchanges_of_known_places_have_their_place_zones_only() -> None:
    table = nanp_zone_table()
    assert table.zones_for("8504320123") == ("America/Chicago",)  # Pensacola
    assert table.zones_for("8506440123") == ("America/New_York",)  # Tallahassee
    assert table.zones_for("8505550123") == ("America/Chicago", "America/New_York")  # no place: the area code's
    assert table.zones_for("8005550123") == ()  # toll-free: no row
    assert table.zones_for("9287740123") == ("America/Phoenix",)  # Flagstaff, off the Navajo Nation
    assert table.zones_for("9288710123") == ("America/Denver", "America/Phoenix")  # Window Rock
    assert table.zones_for("5418890123") == ("America/Boise", "America/Denver")  # Ontario, Oregon
    assert table.zones_for("5416860123") == ("America/Los_Angeles",)  # Eugene
    assert set(table.zones_for("5415730123")) == {"America/Boise", "America/Denver", "America/Los_Angeles"}  # Burns: not listed
    assert table.zones_for("2082870123") == ("America/Boise", "America/Denver")  # Boise
    assert table.zones_for("2082920123") == ("America/Los_Angeles",)  # Coeur d'Alene
    assert table.zones_for("8124010123") == ("America/Chicago",)  # Evansville
    assert table.zones_for("8125470123") == ("America/Chicago", "America/Indiana/Tell_City")  # Tell City
    assert table.zones_for("8128820123") == ("America/Indiana/Vincennes", "America/New_York")  # Vincennes
    assert table.zones_for("2703930123") == ("America/Chicago",)  # Bowling Green
    assert table.zones_for("2702340123") == ("America/New_York",)  # Elizabethtown
    assert table.zones_for("4239420123") == ("America/Chicago",)  # Jasper, Marion County
    assert table.zones_for("7858900123") == ("America/Denver",)  # Goodland
    assert table.zones_for("4322180123") == ("America/Chicago",)  # Midland
    assert table.zones_for("3062050123") == ("America/Regina",)  # Regina
    assert table.zones_for("7784780123") == ("America/Vancouver",)  # Kelowna, in the 778 overlay
    assert table.zones_for("2504170123") == ("America/Edmonton",)  # Cranbrook
    assert table.zones_for("8074670123") == ("America/Winnipeg",)  # Kenora
    assert table.zones_for("4182630123") == ("America/Toronto",)  # Quebec City
    assert table.zones_for("8679790123") == ("America/Iqaluit", "America/Toronto")  # Iqaluit
    assert table.zones_for("9305550123") == table.npa["930"]  # 930: the geocoder names no place, so the area code's row


def test_the_script_writes_the_shipped_file_again(tmp_path: Path) -> None:
    out = generator().generate(tmp_path / "nanp_zones.toml")
    shipped_path = ROOT / "callguard" / "hours" / "data" / "nanp_zones.toml"
    assert out.read_bytes() == shipped_path.read_bytes(), "run python scripts/generate_nanp_zones.py"


def corrections_with(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "corrections.toml"
    path.write_text((ROOT / "scripts" / "data" / "nanp_zone_corrections.toml").read_text("utf-8") + extra, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "extra, message",
    [
        ('[[npa]]\nid = "x"\nnpas = ["928"]\nadd = ["America/Navajo_Nation"]\nsource = "x"\nread = 2026-12-04\n',
         "npa[24]: 'America/Navajo_Nation' is not a zone zoneinfo knows"),
        ('[[npa]]\nid = "x"\nnpas = ["928"]\nadd = ["America/Denver"]\nsource = "x"\n',
         "npa[24]: every correction needs a source and the date it was read"),
        ('[[npa]]\nid = "x"\nnpas = ["800"]\nadd = ["America/Denver"]\nsource = "x"\nread = 2026-12-04\n',
         "npa[24]: 800 is not a geographic area code phonenumbers knows"),
        ('[[places]]\nid = "x"\nnpa = "850"\nzones = ["America/Chicago"]\nplaces = ["Pensacola, Fla."]\nsource = "x"\nread = 2026-12-04\n',
         "no exchange of 850 is in Pensacola, Fla."),
        ('[[npa]]\nid = "Navajo Nation"\nnpas = ["928"]\nadd = ["America/Denver"]\nsource = "x"\nread = 2026-12-04\n',
         "npa[24]: every correction needs an id of lowercase letters, digits and dashes"),
        ('[[npa]]\nid = "az-navajo-nation"\nnpas = ["928"]\nadd = ["America/Denver"]\nsource = "x"\nread = 2026-12-04\n',
         "npa[24]: the id 'az-navajo-nation' is used twice"),
    ],
)
def test_the_script_refuses_a_bad_correction(tmp_path: Path, extra: str, message: str) -> None:
    with pytest.raises(SystemExit, match=message.replace(".", r"\.").replace("[", r"\[").replace("]", r"\]")):
        generator().generate(tmp_path / "out.toml", corrections_with(tmp_path, extra))
    assert not (tmp_path / "out.toml").exists()
