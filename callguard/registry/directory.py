"""All the registries a deployment uses: the ``.cgreg`` files in one directory.

:meth:`RegistryDirectory.lookup` is on the hot path of every telemarketing call: a check of the
clock, then for each registry covering the callee's region one ``e164 in probe``. At most once
every ``check_interval`` seconds it also looks at the directory: a file replaced by a new build
(atomic rename) is mapped afresh, a new file is added, a removed one dropped. Lookups already
running on the old mapping keep it until they finish. A file that cannot be read at reload is
logged and the old mapping kept.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable

from ..clock import Clock, system_clock
from ..errors import ConfigError
from ..loggers import get_logger
from .format import EXTENSION
from .reader import RegistryFile, RegistryInfo

log = get_logger("callguard.registry")


class _Entry:
    __slots__ = ("file", "probe", "regions", "identity")

    def __init__(self, file: RegistryFile) -> None:
        self.file = file
        self.probe = file.probe
        self.regions = file.regions
        self.identity = (file.stat.st_ino, file.stat.st_size, file.stat.st_mtime_ns)


class RegistryDirectory:
    def __init__(self, path: str | os.PathLike[str], *, clock: Clock = system_clock, check_interval: float = 1.0) -> None:
        self.path = os.fspath(path)
        self.clock = clock
        self.check_interval = check_interval
        self._entries: dict[str, _Entry] = {}
        self._order: tuple[tuple[str, _Entry], ...] = ()
        self._lock = threading.Lock()
        self._next_check = 0.0
        self.errors: dict[str, str] = {}
        self._scan(strict=True)

    def _scan(self, *, strict: bool) -> None:
        try:
            names = sorted(n for n in os.listdir(self.path) if n.endswith(EXTENSION) and not n.startswith("."))
        except FileNotFoundError:
            names = []
        entries: dict[str, _Entry] = {}
        errors: dict[str, str] = {}
        for filename in names:
            path = os.path.join(self.path, filename)
            name = filename[: -len(EXTENSION)]
            old = self._entries.get(name)
            try:
                stat = os.stat(path)
                if old is not None and old.identity == (stat.st_ino, stat.st_size, stat.st_mtime_ns):
                    entries[name] = old
                    continue
                entries[name] = _Entry(RegistryFile(path))
                if old is not None:
                    log.info("registry %s reloaded from %s (%d numbers)", name, path, entries[name].file.header.count)
            except (ConfigError, OSError) as exc:
                if strict:
                    raise ConfigError(str(exc).removeprefix(f"{path}: "), source=path) from None
                errors[name] = str(exc)
                log.error("registry %s could not be reloaded, keeping the last good copy: %s", name, exc)
                if old is not None:
                    entries[name] = old
        self._entries = entries
        self._order = tuple(sorted(entries.items()))
        self.errors = errors

    def _maybe_rescan(self) -> None:
        now = self.clock()
        if now >= self._next_check:
            with self._lock:
                if now >= self._next_check:
                    self._next_check = now + self.check_interval
                    self._scan(strict=False)

    def lookup(self, e164: str, region: str | None, names: Iterable[str] | None = None) -> str | None:
        """The name of the first registry (of ``names``, or any) covering ``region`` that lists ``e164``."""
        self._maybe_rescan()
        wanted = None if names is None else set(names)
        for name, entry in self._order:
            if region in entry.regions and (wanted is None or name in wanted) and e164 in entry.probe:
                return name
        return None

    def names(self) -> frozenset[str]:
        self._maybe_rescan()
        return frozenset(self._entries)

    def infos(self) -> list[RegistryInfo]:
        self._maybe_rescan()
        return [entry.file.info() for _, entry in self._order]

    def stale(self) -> list[RegistryInfo]:
        now = self.clock()
        return [info for info in self.infos() if info.is_stale(now)]

    def close(self) -> None:
        self._entries, self._order = {}, ()
