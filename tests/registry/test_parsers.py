"""Reading registry downloads (callguard.registry.parsers)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

from callguard.registry import parsers
from callguard.registry.parsers import MalformedLine, ParseReport, parse_e164, parse_ftc_changes, parse_nanp, parse_tps


def write(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)


@pytest.mark.parametrize(
    "data",
    [
        b"4155550123\n2125550100\n",  # 10 digits, LF
        b"4155550123\r\n2125550100\r\n",  # CR LF
        b"415,5550123\n212,5550100\n",  # AAA,NNNNNNN (the DNCL layout too)
        b"415,5550123\r\n212,5550100\r\n",
        b"4155550123\n\n212,5550100",  # mixed, a blank line, no final newline: the slow path
    ],
)
def test_nanp_layouts(tmp_path: Path, data: bytes) -> None:
    assert sorted(parse_nanp([write(tmp_path / "415.txt", data)]).tolist()) == [2125550100, 4155550123]


def test_zipped_area_code_files(tmp_path: Path) -> None:
    archive = tmp_path / "ftc.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("415.txt", "4155550123\n4155550124\n")
        z.writestr("212.txt", "212,5550100\r\n")
    assert sorted(parse_nanp([str(archive)]).tolist()) == [2125550100, 4155550123, 4155550124]


def test_large_files_use_the_vectorised_path_and_chunking(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parsers, "CHUNK_BYTES", 1000)  # many chunks
    numbers = np.arange(4155550000, 4155550000 + 5000, dtype=np.int64)
    path = write(tmp_path / "415.txt", b"".join(b"%d\n" % n for n in numbers.tolist()))
    report = ParseReport()
    assert np.array_equal(parse_nanp([path], report=report), numbers)
    assert report.lines == 5000


@pytest.mark.parametrize(
    "data, line, fragment",
    [
        (b"4155550123\n41555\n", 2, "'41555'"),
        (b"4155550123\n0155550123\n", 2, "'0155550123'"),  # no area code starts with 0
        (b"4155550123\n4150550123\n", 2, "'4150550123'"),  # nor an exchange
        (b"415-555-0123\n", 1, "'415-555-0123'"),
        (b"4155550123\n41555501234\n", 2, "'41555501234'"),
    ],
)
def test_malformed_lines_name_file_and_line(tmp_path: Path, data: bytes, line: int, fragment: str) -> None:
    path = write(tmp_path / "area_code_415.txt", data)
    with pytest.raises(MalformedLine) as caught:
        parse_nanp([path])
    assert (caught.value.source, caught.value.line) == (path, line)
    assert str(caught.value).startswith(f"{path}:{line}: expected 10 digits or AAA,NNNNNNN") and fragment in str(caught.value)


def test_malformed_lines_in_a_zip_member_and_skipping(tmp_path: Path) -> None:
    archive = tmp_path / "ftc.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("415.txt", "4155550123\nnot a number\n4155550124\n")
    with pytest.raises(MalformedLine, match=r"^ftc\.zip:415\.txt:2: "):
        parse_nanp([str(archive)])
    report = ParseReport()
    assert parse_nanp([str(archive)], skip_bad_lines=True, report=report).tolist() == [4155550123, 4155550124]
    assert [(e.line, e.source) for e in report.skipped] == [(2, "ftc.zip:415.txt")]


def test_ftc_change_lists(tmp_path: Path) -> None:
    path = write(
        tmp_path / "changes.txt",
        b"Area Code,Phone Number,Change,Date\n415,5550123,A,2026-11-01\n212,5550100,delete,11/02/2026\n646,5550199,ADD\n",
    )
    additions, deletions = parse_ftc_changes([path])
    assert additions.tolist() == [4155550123, 6465550199] and deletions.tolist() == [2125550100]


def test_a_numbers_last_change_record_wins(tmp_path: Path) -> None:
    first = write(tmp_path / "monday.txt", b"415,5550123,D\n212,5550100,A\n")
    second = write(tmp_path / "tuesday.txt", b"415,5550123,A\n212,5550100,D\n212,5550100,A\n646,5550199,A\n646,5550199,D\n")
    additions, deletions = parse_ftc_changes([first, second])
    assert sorted(additions.tolist()) == [2125550100, 4155550123] and deletions.tolist() == [6465550199]


@pytest.mark.parametrize(
    "record",
    [b"415,5550123,X", b"415,5550123,A,2026-13-01", b"4155550123,A", b"415,555012,A", b"015,5550123,A"],
)
def test_bad_change_records(tmp_path: Path, record: bytes) -> None:
    path = write(tmp_path / "changes.txt", b"415,5550120,A\n" + record + b"\n")
    with pytest.raises(MalformedLine, match=r":2: expected AAA,NNNNNNN,A\|D"):
        parse_ftc_changes([path])


def test_tps_records(tmp_path: Path) -> None:
    path = write(tmp_path / "tps.txt", b"01632960001 \r\n0163 2960002\r\n020 79460000\r\n02079460001 \r\n")
    assert sorted(parse_tps([path]).tolist()) == [441632960001, 441632960002, 442079460000, 442079460001]


@pytest.mark.parametrize("record", [b"1632960001  ", b"01632 96 0001", b" 01632960001", b"016329600011234", b"0163296000x "])
def test_bad_tps_records(tmp_path: Path, record: bytes) -> None:
    path = write(tmp_path / "tps.txt", b"01632960001 \r\n" + record + b"\r\n")
    with pytest.raises(MalformedLine, match=r"tps\.txt:2: expected a 12-character TPS record"):
        parse_tps([path])


def test_e164_lists(tmp_path: Path) -> None:
    path = write(tmp_path / "de.txt", b"# Germany\n+4930123456\n\n+498912345678\n")
    assert parse_e164([path]).tolist() == [4930123456, 498912345678]
    bad = write(tmp_path / "bad.txt", b"+4930123456\n030123456\n")
    with pytest.raises(MalformedLine, match=r"bad\.txt:2: expected an E\.164 number"):
        parse_e164([bad])
