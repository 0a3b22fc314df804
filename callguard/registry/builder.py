"""Build registry files from arrays of keys, and read their keys back (for deltas).

Everything is vectorised with numpy over the sorted, de-duplicated keys, so building is bound
by parsing and sorting (tens of millions of numbers a second) rather than by Python loops.
Files are written atomically: a temporary file in the same directory, fsync, rename, fsync of
the directory. A failed build leaves the previous file, and no temporary file, behind.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import zlib
from collections.abc import Callable, Iterable
from typing import BinaryIO

import numpy as np

from .format import HEADER_SIZE, Header, RegistryKind
from .probe import BITMAP_BYTES, BITMAP_THRESHOLD, NANP_EXCHANGES

try:
    from ._native import encode_nanp as native_encode_nanp  # type: ignore[import-not-found]
except ImportError:  # the optional extension was not built
    native_encode_nanp = None

NANP_MIN, NANP_MAX = 2_000_000_000, 9_999_999_999


def _sorted_unique(keys: np.ndarray) -> np.ndarray:
    keys = np.sort(np.asarray(keys, dtype=np.int64), kind="quicksort")
    if len(keys) < 2:
        return keys
    return keys[np.concatenate(([True], keys[1:] != keys[:-1]))]


def encode_nanp(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """(directory, data, count) for 10-digit national numbers (any order, duplicates allowed).

    Sorts, then encodes in C when the extension is built (one pass: about a second for 250
    million numbers), else with :func:`encode_nanp_numpy` (the same bytes, several times slower).
    """
    keys = np.asarray(keys, dtype=np.int64)
    if native_encode_nanp is None:
        return encode_nanp_numpy(keys)
    ordered = np.sort(keys, kind="quicksort")
    directory, data, count = native_encode_nanp(ordered)
    return np.frombuffer(directory, dtype="<u8"), np.frombuffer(data, dtype=np.uint8), int(count)


def encode_nanp_numpy(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """:func:`encode_nanp` in numpy alone."""
    unique = _sorted_unique(keys)
    if len(unique) and (unique[0] < NANP_MIN or unique[-1] > NANP_MAX):
        raise ValueError("NANP keys must be 10-digit national numbers")
    directory = np.zeros(NANP_EXCHANGES, dtype="<u8")
    if len(unique) == 0:
        return directory, np.empty(0, dtype=np.uint8), 0
    # int32 wherever the values fit: at 250 million numbers every 8-byte array is 2 GB.
    block = (unique // 10_000).astype(np.int32)
    line = (unique % 10_000).astype(np.int32)
    del unique
    starts = np.flatnonzero(np.concatenate(([True], block[1:] != block[:-1])))
    counts = np.diff(np.append(starts, len(line)))
    dense = counts >= BITMAP_THRESHOLD
    sizes = np.where(dense, BITMAP_BYTES, counts * 2)
    offsets = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.int64)
    data = np.zeros(int(sizes.sum()), dtype=np.uint8)

    rank = np.repeat(np.arange(len(starts), dtype=np.int32), counts)
    element_dense = dense[rank]
    # Sparse exchanges: their lines, in order, as little-endian uint16.
    if not element_dense.all():
        sparse = np.flatnonzero(~element_dense)
        position = offsets[rank[sparse]] + 2 * (sparse - starts[rank[sparse]])
        lines = line[sparse]
        data[position] = (lines & 0xFF).astype(np.uint8)
        data[position + 1] = (lines >> 8).astype(np.uint8)
        del sparse, position, lines
    # Dense exchanges: set bits, OR-ing together the masks that land in the same byte.
    if element_dense.any():
        chosen = np.flatnonzero(element_dense) if not element_dense.all() else slice(None)
        byte = offsets[rank[chosen]] + (line[chosen] >> 3)
        mask = np.left_shift(np.uint8(1), (line[chosen] & 7).astype(np.uint8))
        runs = np.flatnonzero(np.concatenate(([True], byte[1:] != byte[:-1])))
        data[byte[runs]] = np.bitwise_or.reduceat(mask, runs)
        del byte, mask, runs
    count = len(line)
    directory[block[starts]] = (offsets.astype(np.uint64) << np.uint64(16)) | counts.astype(np.uint64)
    return directory, data, count


def decode_nanp(directory: np.ndarray, data: np.ndarray, *, chunk_blocks: int = 50_000) -> np.ndarray:
    """The sorted 10-digit national numbers a NANP registry holds."""
    exchanges = np.flatnonzero(directory)
    entries = directory[exchanges]
    counts = (entries & np.uint64(0xFFFF)).astype(np.int64)
    offsets = (entries >> np.uint64(16)).astype(np.int64)
    parts = []
    dense = counts >= BITMAP_THRESHOLD
    for start in range(0, len(exchanges), chunk_blocks):
        sl = slice(start, start + chunk_blocks)
        ex, off, cnt, dn = exchanges[sl], offsets[sl], counts[sl], dense[sl]
        if dn.any():
            rows = data[off[dn][:, None] + np.arange(BITMAP_BYTES)]
            row, line = np.nonzero(np.unpackbits(rows, axis=1, bitorder="little"))
            parts.append(ex[dn][row].astype(np.int64) * 10_000 + line)
        if (~dn).any():
            sparse_off, sparse_cnt, sparse_ex = off[~dn], cnt[~dn], ex[~dn]
            rank = np.repeat(np.arange(len(sparse_cnt)), sparse_cnt)
            within = np.arange(int(sparse_cnt.sum())) - np.repeat(np.concatenate(([0], np.cumsum(sparse_cnt)[:-1])), sparse_cnt)
            position = sparse_off[rank] + 2 * within
            lines = data[position].astype(np.int64) | (data[position + 1].astype(np.int64) << 8)
            parts.append(sparse_ex[rank].astype(np.int64) * 10_000 + lines)
    return np.sort(np.concatenate(parts)) if parts else np.empty(0, dtype=np.int64)


def encode_sorted(keys: np.ndarray) -> tuple[np.ndarray, int]:
    unique = _sorted_unique(keys)
    return unique.astype("<u8"), len(unique)


def _replace_atomically(directory: str, target: str, write: Callable[[BinaryIO], None]) -> None:
    """Write a new file through ``write`` and rename it over ``target``, durably; or leave nothing."""
    os.makedirs(directory, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{os.path.basename(target)}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(descriptor, "wb") as out:
            write(out)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o444)  # a registry file never changes after it is written
        os.replace(temporary, target)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise
    directory_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(directory_fd)
    finally:
        os.close(directory_fd)


def install_file(source: str, target: str) -> None:
    """Copy a registry file into place the only safe way: a new file renamed over the old one."""
    with open(source, "rb") as incoming:
        _replace_atomically(os.path.dirname(os.path.abspath(target)), target, lambda out: shutil.copyfileobj(incoming, out, 16 << 20))


def write_registry(
    path: str,
    *,
    name: str,
    kind: RegistryKind,
    regions: Iterable[str],
    as_of: float,
    sections: tuple[np.ndarray, np.ndarray | None],
    count: int,
    built_at: float | None = None,
) -> Header:
    """Write the file atomically; returns its header."""
    first, second = sections
    first_bytes = np.ascontiguousarray(first).data.cast("B")
    second_bytes = np.ascontiguousarray(second).data.cast("B") if second is not None else memoryview(b"")
    crc = zlib.crc32(second_bytes, zlib.crc32(first_bytes))
    header = Header(
        kind=kind,
        count=count,
        as_of=as_of,
        built_at=time.time() if built_at is None else built_at,
        section1=(HEADER_SIZE, len(first_bytes)),
        section2=(HEADER_SIZE + len(first_bytes), len(second_bytes)),
        crc32=crc,
        name=name,
        regions=frozenset(regions),
    )
    def write(out: BinaryIO) -> None:
        out.write(header.pack())
        out.write(first_bytes)
        out.write(second_bytes)

    _replace_atomically(os.path.dirname(os.path.abspath(path)), path, write)
    return header


def build(
    path: str, *, name: str, kind: RegistryKind, keys: np.ndarray, regions: Iterable[str], as_of: float
) -> Header:
    """Build a registry file at ``path`` from keys (10-digit national for NANP, E.164 digits otherwise)."""
    if kind is RegistryKind.NANP:
        directory, data, count = encode_nanp(keys)
        return write_registry(path, name=name, kind=kind, regions=regions, as_of=as_of, sections=(directory, data), count=count)
    array, count = encode_sorted(keys)
    return write_registry(path, name=name, kind=kind, regions=regions, as_of=as_of, sections=(array, None), count=count)
