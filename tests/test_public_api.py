"""The public API is what ``callguard.__all__`` says, and nothing else (httpx's test_exported_members)."""

from __future__ import annotations

from types import ModuleType

import callguard

# Imported from the web layer on first use (callguard/__init__.py's __getattr__): the core decides without Flask.
FROM_THE_WEB_LAYER = {"CallGuard", "GuardMiddleware", "create_app"}
# What callguard/__init__.py imports for itself, not for its users.
OWN_IMPORTS = {"annotations", "TYPE_CHECKING", "Any"}


def test_all_names_every_public_member_and_only_those() -> None:
    members = {
        name
        for name, value in vars(callguard).items()
        if (not name.startswith("_") or name == "__version__") and not isinstance(value, ModuleType) and name not in OWN_IMPORTS
    }
    assert set(callguard.__all__) == members | FROM_THE_WEB_LAYER


def test_all_is_sorted_and_every_name_resolves() -> None:
    assert callguard.__all__ == sorted(callguard.__all__, key=lambda name: (name != "__version__", name))
    for name in callguard.__all__:
        assert getattr(callguard, name) is not None, name
    assert callguard.CallGuard.__module__ == "callguard.web.extension"
    assert callguard.GuardMiddleware.__module__ == "callguard.web.middleware"
