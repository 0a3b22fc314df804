"""Run one harness under atheris: coverage of every Python function loaded, libFuzzer's options
from the command line (scripts/fuzz.sh passes them)."""

from __future__ import annotations

import sys
from collections.abc import Callable


def fuzz(check: Callable[[bytes], None]) -> None:
    import atheris  # the fuzz extra: only a fuzzing run needs it, never the tests' replay of the corpus

    atheris.instrument_all()
    atheris.Setup(sys.argv, check)
    atheris.Fuzz()
