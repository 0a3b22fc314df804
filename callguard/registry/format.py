"""The registry file: a read-only, memory-mappable set of phone numbers.

Layout (little-endian throughout)::

    header, 512 bytes: magic "CGREG\\0\\0\\1", version, kind, count, as_of, built_at,
                       section offsets and sizes, CRC-32 of the sections, name, regions
    section 1, section 2

Kind ``nanp`` (North American numbers, "+1" and 10 digits): section 1 is a directory with one
uint64 per NPA-NXX exchange (10^6 entries, 8 MB): ``(offset << 16) | count``. Section 2 holds,
per exchange with numbers, either a 1250-byte bitmap of its 10 000 lines (from 625 numbers
up) or, below that, its lines as a sorted uint16 array — whichever is smaller. A lookup is one
directory read and one byte (or a short binary search): a few tens of nanoseconds in C. A
registry of every number in every US exchange would be 8 MB + 286 000 x 1250 B = 366 MB.

Kind ``sorted`` (any country): section 1 is the numbers' E.164 digits as sorted uint64 keys;
a lookup is a binary search. UK TPS (about 20 million numbers) is 160 MB.

The file is written once, atomically (temporary file, fsync, rename), and never changed:
``apply-delta`` writes a new file. Workers map it read-only, so every worker of a host shares
one copy through the page cache.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass

MAGIC = b"CGREG\x00\x00\x01"
VERSION = 1
HEADER_SIZE = 512
_HEADER = struct.Struct("<8sIIQddQQQQI64s128s")
EXTENSION = ".cgreg"
NANP_DIRECTORY_BYTES = 1_000_000 * 8


class RegistryKind(enum.IntEnum):
    NANP = 1
    SORTED = 2


@dataclass(frozen=True)
class Header:
    kind: RegistryKind
    count: int
    as_of: float
    built_at: float
    section1: tuple[int, int]  # offset, size
    section2: tuple[int, int]
    crc32: int
    name: str
    regions: frozenset[str]

    def pack(self) -> bytes:
        packed = _HEADER.pack(
            MAGIC,
            VERSION,
            int(self.kind),
            self.count,
            self.as_of,
            self.built_at,
            *self.section1,
            *self.section2,
            self.crc32,
            self.name.encode("utf-8"),
            ",".join(sorted(self.regions)).encode("ascii"),
        )
        return packed.ljust(HEADER_SIZE, b"\x00")

    @property
    def total_size(self) -> int:
        return max(HEADER_SIZE, self.section1[0] + self.section1[1], self.section2[0] + self.section2[1])


class FormatError(ValueError):
    """The bytes are not a registry file this version of callguard can read."""


def unpack_header(data: bytes | memoryview) -> Header:
    if len(data) < HEADER_SIZE:
        raise FormatError(f"shorter than a registry header ({len(data)} bytes)")
    fields = _HEADER.unpack_from(data)
    magic, version, kind, count, as_of, built_at, s1o, s1s, s2o, s2s, crc, name, regions = fields
    if magic != MAGIC:
        raise FormatError("not a callguard registry file (bad magic)")
    if version != VERSION:
        raise FormatError(f"registry format version {version}; this callguard reads version {VERSION}")
    try:
        kind = RegistryKind(kind)
    except ValueError:
        raise FormatError(f"unknown registry kind {kind}") from None
    header = Header(
        kind=kind,
        count=count,
        as_of=as_of,
        built_at=built_at,
        section1=(s1o, s1s),
        section2=(s2o, s2s),
        crc32=crc,
        name=name.rstrip(b"\x00").decode("utf-8", "replace"),
        regions=frozenset(r for r in regions.rstrip(b"\x00").decode("ascii", "replace").split(",") if r),
    )
    if kind is RegistryKind.NANP and s1s != NANP_DIRECTORY_BYTES:
        raise FormatError("NANP directory of the wrong size")
    if kind is RegistryKind.SORTED and s1s != count * 8:
        raise FormatError("sorted array size does not match the count")
    return header
