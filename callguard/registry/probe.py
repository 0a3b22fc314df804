"""Membership probes over a registry file's memory map: ``e164 in probe``.

The C probes in ``_native.c`` are used when the extension is built (a lookup is one C call);
otherwise these pure-Python ones, which read the same bytes the same way.
"""

from __future__ import annotations

import bisect
import struct
from typing import Any, Protocol

__all__ = [
    "ACCELERATED",
    "BITMAP_BYTES",
    "BITMAP_THRESHOLD",
    "NANP_EXCHANGES",
    "NanpProbe",
    "Probe",
    "PyNanpProbe",
    "PySortedProbe",
    "SortedProbe",
]

NANP_EXCHANGES = 1_000_000
BITMAP_THRESHOLD = 625  # from this many numbers an exchange is stored as a bitmap
BITMAP_BYTES = 1250  # 10 000 lines, one bit each
_U64 = struct.Struct("<Q")


def _key(e164: object) -> tuple[int, int] | None:
    if not isinstance(e164, str) or not 2 <= len(e164) <= 16 or e164[0] != "+":  # "+" and up to 15 digits
        return None
    digits = e164[1:]
    if not (digits.isascii() and digits.isdigit()):
        return None
    return int(digits), len(digits)


class Probe(Protocol):
    """A registry file's membership test, from the C extension or the pure-Python fallback."""

    def __contains__(self, e164: object) -> bool: ...


class PyNanpProbe:
    def __init__(self, buffer: Any, directory_offset: int, data_offset: int) -> None:
        self.buffer = memoryview(buffer)
        self.directory = directory_offset
        self.data = data_offset

    def __contains__(self, e164: object) -> bool:
        key = _key(e164)
        if key is None or key[1] != 11 or key[0] // 10_000_000_000 != 1:
            return False
        national = key[0] - 10_000_000_000
        (entry,) = _U64.unpack_from(self.buffer, self.directory + (national // 10_000) * 8)
        count = entry & 0xFFFF
        if count == 0:
            return False
        offset = self.data + (entry >> 16)
        line = national % 10_000
        if count >= BITMAP_THRESHOLD:
            return bool((self.buffer[offset + (line >> 3)] >> (line & 7)) & 1)
        lines = _LittleEndianArray(self.buffer, offset, count, 2)
        index = bisect.bisect_left(lines, line)
        return index < count and lines[index] == line


class PySortedProbe:
    def __init__(self, buffer: Any, offset: int, count: int) -> None:
        self.keys = _LittleEndianArray(memoryview(buffer), offset, count, 8)
        self.count = count

    def __contains__(self, e164: object) -> bool:
        key = _key(e164)
        if key is None:
            return False
        index = bisect.bisect_left(self.keys, key[0])
        return index < self.count and self.keys[index] == key[0]


class _LittleEndianArray:
    """A read-only sequence of little-endian unsigned integers in a buffer, for bisect."""

    def __init__(self, buffer: memoryview, offset: int, count: int, width: int) -> None:
        self.buffer, self.offset, self.count, self.width = buffer, offset, count, width

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index: int) -> int:
        start = self.offset + index * self.width
        return int.from_bytes(self.buffer[start : start + self.width], "little")


try:
    from ._native import NanpProbe, SortedProbe  # type: ignore[import-not-found]

    ACCELERATED = True
except ImportError:  # the optional extension was not built
    NanpProbe, SortedProbe = PyNanpProbe, PySortedProbe
    ACCELERATED = False
