"""Every ``callguard`` command explains itself: help for each option, and the environment variable
each option reads shown in ``--help`` (callguard.cli and the command groups it gathers)."""

from __future__ import annotations

from collections.abc import Iterator

import click
import pytest
from click.testing import CliRunner

from callguard.cli import main


def _commands(command: click.Command, path: tuple[str, ...] = ("callguard",)) -> Iterator[tuple[str, click.Command]]:
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from _commands(sub, (*path, name))
    else:
        yield " ".join(path), command


COMMANDS = dict(_commands(main))


def test_the_command_tree_is_walked() -> None:
    assert {"callguard serve", "callguard check", "callguard simulate", "callguard optout add", "callguard block list"} <= set(COMMANDS)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_option_has_help_and_shows_its_environment_variable(name: str) -> None:
    command = COMMANDS[name]
    assert command.help, f"{name} has no help"
    options = [p for p in command.params if isinstance(p, click.Option) and p.name != "help"]
    assert [o.opts for o in options if not o.help] == [], f"{name}: options without help"
    assert [o.opts for o in options if o.envvar and not o.show_envvar] == [], f"{name}: environment variables not shown"
    usage = CliRunner().invoke(main, [*name.split()[1:], "--help"])
    assert usage.exit_code == 0
    for option in options:
        if option.envvar:
            assert f"env var: {option.envvar}" in " ".join(usage.stdout.split()), (name, option.opts)
