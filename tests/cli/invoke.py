"""Run a ``callguard`` command in-process, as the tests of the command line do."""

from __future__ import annotations

from click.testing import CliRunner

from callguard.cli import main


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of ``callguard ARGS…``."""
    result = CliRunner().invoke(main, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr
