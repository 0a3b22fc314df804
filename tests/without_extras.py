"""Run Python as a plain ``pip install callguard-voice`` would: without the packages of any extra.

The test venv has every extra installed; a subprocess started here gets an import hook that
refuses them exactly as a missing package is refused (``ModuleNotFoundError`` naming it), so
that what a newcomer's install does can be tested without building a second venv. (The CI smoke
run in ``.ci/run`` builds that venv for real.)
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

# The packages of the redis, postgres and holidays extras, and of the test-only examples (django).
EXTRA_PACKAGES = ("redis", "hiredis", "psycopg", "psycopg_binary", "psycopg_c", "holidays", "django")

_PRELUDE = f"""
import importlib.abc, sys

class _WithoutExtras(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in {EXTRA_PACKAGES!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None

sys.meta_path.insert(0, _WithoutExtras())
"""

ROOT = Path(__file__).resolve().parent.parent


def run_without_extras(
    code: str, *, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter that cannot import any extra's package."""
    return subprocess.run(
        [sys.executable, "-c", _PRELUDE + textwrap.dedent(code)],
        capture_output=True, text=True, timeout=timeout, cwd=cwd or ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
    )


def cli_without_extras(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``callguard ARGS…`` without any extra."""
    script = f"import sys\nfrom callguard.cli import main\nsys.argv = ['callguard', *{list(args)!r}]\nmain()\n"
    return run_without_extras(script, env=env, cwd=cwd)
