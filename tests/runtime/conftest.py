"""A runtime as a server assembles it, on the test policy with a traffic limit (so calls count)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from callguard.runtime.assemble import assemble
from callguard.runtime.runtime import Runtime
from callguard.runtime.settings import Settings

from ..conftest import BASE_POLICY

TRAFFIC_POLICY = BASE_POLICY + "\n[traffic]\ncps = 100\n"


@pytest.fixture
def runtime_config(app_config: dict[str, Any], write_policy: Callable[..., Path]) -> dict[str, Any]:
    """What a deployment sets: batched audit, a background refresh, no Twilio sync."""
    return {
        **app_config,
        "CALLGUARD_POLICY": str(write_policy(TRAFFIC_POLICY, name="traffic.toml")),
        "CALLGUARD_AUDIT_MODE": "batched",
        "CALLGUARD_AUDIT_FLUSH_INTERVAL": 60,  # the tests see the backlog written at close, not by a flush before
        "CALLGUARD_REFRESH_INTERVAL": 60,
    }


@pytest.fixture
def make_runtime() -> Iterator[Callable[..., Runtime]]:
    made: list[Runtime] = []

    def make(config: dict[str, Any], **options: Any) -> Runtime:
        runtime = assemble(Settings.from_mapping(config), config, **options)
        made.append(runtime)
        return runtime

    yield make
    for runtime in made:
        runtime.close()
