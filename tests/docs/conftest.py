"""A workspace per scenario, closed (every server it started stopped) after the test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .shell import Workspace


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Workspace]:
    space = Workspace(tmp_path / "checkout")
    yield space
    space.close()
