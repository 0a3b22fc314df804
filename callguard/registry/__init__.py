"""National Do-Not-Call registries: compact read-only files, built once, memory-mapped by every worker."""

from .directory import RegistryDirectory
from .format import RegistryKind
from .reader import STALE_AFTER_DAYS, RegistryFile, RegistryInfo

__all__ = ["RegistryDirectory", "RegistryFile", "RegistryInfo", "RegistryKind", "STALE_AFTER_DAYS"]
