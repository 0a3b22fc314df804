"""A workspace per scenario, closed (every server it started stopped) after the test."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from .shell import Workspace


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Workspace]:
    space = Workspace(tmp_path / "checkout")
    yield space
    space.close()
