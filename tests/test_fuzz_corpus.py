"""Every seed of the fuzzing harnesses, and every input a fuzzing run once found a fault with,
replayed through its harness's check (fuzz/): what was fixed stays fixed."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from fuzz import TARGETS

CORPUS = Path(__file__).resolve().parent.parent / "fuzz" / "corpus"


@pytest.mark.parametrize("target", TARGETS)
def test_the_corpus_holds(target: str) -> None:
    check = importlib.import_module(f"fuzz.{target}").check
    inputs = sorted((CORPUS / target).iterdir())
    assert inputs, f"no seeds for {target}: python -m fuzz.seeds"
    for path in inputs:
        try:
            check(path.read_bytes())
        except Exception as exc:
            raise AssertionError(f"{path.relative_to(CORPUS)}: {exc!r}") from exc
