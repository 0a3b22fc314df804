"""One registry file, memory-mapped read-only: :class:`RegistryFile`.

Opening checks the header and that the file is as long as the header says (a truncated copy
fails here, naming the file); ``verify()`` also checks the CRC-32 of the contents, which reads
the whole file and is left to ``callguard registry info --verify``.
"""

from __future__ import annotations

import mmap
import os
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import ConfigError
from .format import HEADER_SIZE, FormatError, Header, RegistryKind, unpack_header
from .probe import NanpProbe, Probe, SortedProbe

if TYPE_CHECKING:
    import numpy as np

SECONDS_PER_DAY = 86_400.0

STALE_AFTER_DAYS = 31.0  # the FTC's and the CRTC's limit on a registry copy's age


class _Closed:
    """The probe of a closed file: looking a number up in it is a bug."""

    def __contains__(self, e164: object) -> bool:
        raise ValueError("the registry file is closed")


_CLOSED = _Closed()


@dataclass(frozen=True)
class RegistryInfo:
    name: str
    path: str
    regions: frozenset[str]
    count: int
    size_bytes: int
    as_of: float
    built_at: float
    kind: str = "nanp"

    def age_days(self, now: float) -> float:
        return (now - self.as_of) / SECONDS_PER_DAY

    def is_stale(self, now: float, max_age_days: float = STALE_AFTER_DAYS) -> bool:
        return self.age_days(now) > max_age_days


class RegistryFile:
    """A registry file mapped into memory; ``e164 in registry`` asks whether it lists a number."""

    def __init__(self, path: str) -> None:
        self.path = path
        try:
            with open(path, "rb") as handle:
                self.stat = os.fstat(handle.fileno())
                if self.stat.st_size == 0:
                    raise FormatError("the file is empty")
                self._map = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        except OSError as exc:
            raise ConfigError(f"cannot read the registry file: {exc.strerror or exc}", source=path) from None
        except FormatError as exc:
            raise ConfigError(str(exc), source=path) from None
        try:
            self.header = unpack_header(self._map[:HEADER_SIZE])
            if self.header.total_size > len(self._map):
                raise FormatError(f"truncated: {len(self._map)} bytes of {self.header.total_size}")
            self._probe: Probe
            if self.header.kind is RegistryKind.NANP:
                self._probe = NanpProbe(self._map, self.header.section1[0], self.header.section2[0])
            else:
                self._probe = SortedProbe(self._map, self.header.section1[0], self.header.count)
        except (FormatError, ValueError) as exc:
            self._map.close()
            raise ConfigError(str(exc), source=path) from None
        if hasattr(mmap, "MADV_RANDOM"):
            self._map.madvise(mmap.MADV_RANDOM)  # lookups touch single pages: no read-ahead

    @property
    def name(self) -> str:
        return self.header.name

    @property
    def regions(self) -> frozenset[str]:
        return self.header.regions

    def __contains__(self, e164: object) -> bool:
        return e164 in self._probe

    @property
    def probe(self) -> Probe:
        """The probe itself: ``e164 in probe``, with nothing in between (for the hot path)."""
        return self._probe

    def info(self) -> RegistryInfo:
        h = self.header
        return RegistryInfo(h.name, self.path, h.regions, h.count, self.stat.st_size, h.as_of, h.built_at, h.kind.name.lower())

    def verify(self) -> None:
        """Raise ConfigError unless the contents match the header's CRC-32."""
        h = self.header
        crc = zlib.crc32(self._map[h.section1[0] : h.section1[0] + h.section1[1]])
        crc = zlib.crc32(self._map[h.section2[0] : h.section2[0] + h.section2[1]], crc)
        if crc != h.crc32:
            raise ConfigError("contents do not match their checksum (corrupt copy)", source=self.path)

    def keys(self) -> np.ndarray:
        """Every key the file holds, sorted (10-digit national numbers for NANP, else E.164 digits)."""
        # numpy only here: deciding calls reads a registry through the probes, never every key.
        import numpy as np

        from .builder import decode_nanp

        h = self.header
        first = np.frombuffer(self._map, dtype="<u8", count=h.section1[1] // 8, offset=h.section1[0])
        if h.kind is RegistryKind.SORTED:
            return first.astype(np.int64)
        data = np.frombuffer(self._map, dtype=np.uint8, count=h.section2[1], offset=h.section2[0])
        return decode_nanp(first, data)

    def close(self) -> None:
        # The probe holds a buffer on the map; the map is unmapped when the last user lets go.
        self._probe = _CLOSED


def header_of(path: str) -> Header:
    with open(path, "rb") as handle:
        return unpack_header(handle.read(512))
