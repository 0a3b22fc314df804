"""Building, reading and reloading registry files (callguard.registry.builder, .reader, .directory)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callguard import ConfigError, FakeClock
from callguard.registry import RegistryDirectory, RegistryFile, RegistryKind
from callguard.registry.builder import build, decode_nanp, encode_nanp
from callguard.registry.probe import ACCELERATED, PyNanpProbe, PySortedProbe

US = {"US", "PR", "VI", "GU", "AS", "MP"}

nanp_numbers = st.integers(2, 9).flatmap(
    lambda npa0: st.tuples(st.integers(0, 99), st.integers(2, 9), st.integers(0, 99), st.integers(0, 9999)).map(
        lambda t: npa0 * 10**9 + t[0] * 10**7 + t[1] * 10**6 + t[2] * 10**4 + t[3]
    )
)


def queries(numbers: list[int], extra: list[int]) -> list[object]:
    return [f"+1{n}" for n in numbers + extra] + ["+1", "+14155", "4155550123", "+441632960001", "+1415555012x", None, 12, ""]


@given(
    numbers=st.lists(st.one_of(nanp_numbers, st.integers(4155550000, 4155550999)), max_size=1500),
    others=st.lists(nanp_numbers, max_size=50),
)
@settings(max_examples=40, deadline=None)
def test_a_nanp_registry_answers_exactly_like_a_set(
    tmp_path_factory: pytest.TempPathFactory, numbers: list[int], others: list[int]
) -> None:
    # Dense exchanges (bitmaps) come from the 415-555 range, sparse ones (arrays) from the rest.
    path = str(tmp_path_factory.mktemp("reg") / "us_ftc.cgreg")
    header = build(path, name="us_ftc", kind=RegistryKind.NANP, keys=np.array(numbers, dtype=np.int64), regions=US, as_of=0.0)
    registry = RegistryFile(path)
    expected = {f"+1{n}" for n in numbers}
    assert header.count == len(expected)
    python = PyNanpProbe(registry._map, header.section1[0], header.section2[0])
    for query in queries(numbers, others):
        assert (query in registry) == (query in expected) == (query in python), query
    assert registry.keys().tolist() == sorted(set(numbers))


@given(numbers=st.lists(st.integers(10**6, 10**15 - 1), max_size=500), others=st.lists(st.integers(10**6, 10**15 - 1), max_size=50))
@settings(max_examples=40, deadline=None)
def test_a_sorted_registry_answers_exactly_like_a_set(
    tmp_path_factory: pytest.TempPathFactory, numbers: list[int], others: list[int]
) -> None:
    path = str(tmp_path_factory.mktemp("reg") / "uk_tps.cgreg")
    header = build(path, name="uk_tps", kind=RegistryKind.SORTED, keys=np.array(numbers, dtype=np.int64), regions={"GB"}, as_of=0.0)
    registry = RegistryFile(path)
    expected = {f"+{n}" for n in numbers}
    python = PySortedProbe(registry._map, header.section1[0], header.count)
    for query in [f"+{n}" for n in numbers + others] + ["+", "+0", "44", None, "+" + "9" * 19, "+" + "1" * 16]:
        assert (query in registry) == (query in expected) == (query in python), query


def test_the_c_probe_is_built_here() -> None:
    # The pure-Python probe is the fallback; on this platform the extension must be used.
    assert ACCELERATED


def test_dense_exchanges_are_bitmaps_and_sparse_ones_arrays() -> None:
    dense = np.arange(4155550000, 4155550700, dtype=np.int64)
    directory, data, count = encode_nanp(np.concatenate([dense, [2125550100, 2125550101]]))
    assert count == 702 and len(data) == 1250 + 4
    assert np.array_equal(decode_nanp(directory, data), np.sort(np.concatenate([[2125550100, 2125550101], dense])))


def test_a_failed_build_leaves_the_old_file_and_no_temporary_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = str(tmp_path / "us_ftc.cgreg")
    build(path, name="us_ftc", kind=RegistryKind.NANP, keys=np.array([4155550123]), regions=US, as_of=0.0)
    before = Path(path).read_bytes()

    def broken(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken)
    with pytest.raises(OSError):
        build(path, name="us_ftc", kind=RegistryKind.NANP, keys=np.array([4155550124]), regions=US, as_of=0.0)
    assert Path(path).read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["us_ftc.cgreg"]


def test_corrupt_and_truncated_files(tmp_path: Path) -> None:
    path = tmp_path / "us_ftc.cgreg"
    build(str(path), name="us_ftc", kind=RegistryKind.NANP, keys=np.array([4155550123]), regions=US, as_of=0.0)
    data = path.read_bytes()
    for name, content, message in [
        ("empty.cgreg", b"", "empty"),
        ("text.cgreg", b"hello" * 200, "bad magic"),
        ("short.cgreg", data[: len(data) // 2], "truncated"),
    ]:
        (tmp_path / name).write_bytes(content)
        with pytest.raises(ConfigError, match=message) as caught:
            RegistryFile(str(tmp_path / name))
        assert caught.value.source == str(tmp_path / name)
    flipped = bytearray(data)
    flipped[-1] ^= 0xFF
    (tmp_path / "flipped.cgreg").write_bytes(bytes(flipped))
    with pytest.raises(ConfigError, match="checksum"):
        RegistryFile(str(tmp_path / "flipped.cgreg")).verify()
    RegistryFile(str(path)).verify()


def test_a_directory_picks_up_replaced_added_and_removed_files(tmp_path: Path) -> None:
    clock = FakeClock(time.time())
    build(str(tmp_path / "us_ftc.cgreg"), name="us_ftc", kind=RegistryKind.NANP, keys=np.array([4155550123]), regions=US, as_of=clock())
    directory = RegistryDirectory(tmp_path, clock=clock, check_interval=1.0)
    assert directory.lookup("+14155550123", "US") == "us_ftc"
    assert directory.lookup("+14155550123", "CA") is None  # not a region it covers
    assert directory.lookup("+14155550124", "US") is None

    build(str(tmp_path / "us_ftc.cgreg"), name="us_ftc", kind=RegistryKind.NANP, keys=np.array([4155550124]), regions=US, as_of=clock())
    build(
        str(tmp_path / "ca_dncl.cgreg"), name="ca_dncl", kind=RegistryKind.NANP, keys=np.array([4165550123]), regions={"CA"}, as_of=clock()
    )
    assert directory.lookup("+14155550124", "US") is None  # not yet: checked once a second
    clock.advance(1)
    assert directory.lookup("+14155550124", "US") == "us_ftc" and directory.lookup("+14155550123", "US") is None
    assert directory.lookup("+14165550123", "CA") == "ca_dncl"
    assert directory.names() == {"us_ftc", "ca_dncl"}
    assert directory.lookup("+14165550123", "CA", names=["us_ftc"]) is None

    os.unlink(tmp_path / "ca_dncl.cgreg")
    clock.advance(1)
    assert directory.names() == {"us_ftc"}


def test_a_corrupt_replacement_keeps_the_last_good_copy(tmp_path: Path) -> None:
    clock = FakeClock(time.time())
    path = tmp_path / "us_ftc.cgreg"
    build(str(path), name="us_ftc", kind=RegistryKind.NANP, keys=np.array([4155550123]), regions=US, as_of=clock())
    directory = RegistryDirectory(tmp_path, clock=clock)
    # Replaced by rename, as every tool must (writing over a mapped file in place would pull the
    # pages from under every worker): a new file, but not a registry.
    (tmp_path / ".incoming").write_bytes(b"garbage" * 100)
    os.replace(tmp_path / ".incoming", path)
    clock.advance(2)
    assert directory.lookup("+14155550123", "US") == "us_ftc"
    assert "us_ftc" in directory.errors


def test_staleness(tmp_path: Path) -> None:
    now = time.time()
    build(
        str(tmp_path / "us_ftc.cgreg"),
        name="us_ftc",
        kind=RegistryKind.NANP,
        keys=np.array([4155550123]),
        regions=US,
        as_of=now - 32 * 86400,
    )
    build(
        str(tmp_path / "ca_dncl.cgreg"),
        name="ca_dncl",
        kind=RegistryKind.NANP,
        keys=np.array([4165550123]),
        regions={"CA"},
        as_of=now - 30 * 86400,
    )
    directory = RegistryDirectory(tmp_path, clock=FakeClock(now))
    assert [i.name for i in directory.stale()] == ["us_ftc"]


def test_a_missing_directory_is_no_registries(tmp_path: Path) -> None:
    directory = RegistryDirectory(tmp_path / "nowhere")
    assert directory.names() == frozenset() and directory.lookup("+14155550123", "US") is None


def test_a_corrupt_file_at_start_up_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "us_ftc.cgreg").write_bytes(b"not a registry" * 100)
    with pytest.raises(ConfigError) as caught:
        RegistryDirectory(tmp_path)
    assert caught.value.source == str(tmp_path / "us_ftc.cgreg")


@given(numbers=st.lists(st.one_of(nanp_numbers, st.integers(4155550000, 4155551200)), max_size=3000))
@settings(max_examples=40, deadline=None)
def test_the_c_encoder_writes_exactly_what_the_numpy_encoder_writes(numbers: list[int]) -> None:
    from callguard.registry.builder import encode_nanp_numpy

    keys = np.array(numbers, dtype=np.int64)
    directory, data, count = encode_nanp(keys)
    directory_np, data_np, count_np = encode_nanp_numpy(keys)
    assert count == count_np
    assert np.array_equal(directory, directory_np) and np.array_equal(data, data_np)
