"""The fenced code blocks of the project's Markdown files, with the language each one names."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Blocks in these languages are commands: tests/docs runs every one of them.
COMMAND_LANGUAGES = frozenset({"sh", "bash", "console"})
# Everything else a block may be: configuration, documents, output, code to read.
OTHER_LANGUAGES = frozenset({"text", "toml", "json", "xml", "python"})

_FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<language>[^`\s]*)[ \t]*$")
_CLOSE = re.compile(r"^[ \t]*```[ \t]*$")


@dataclass(frozen=True)
class Block:
    """One fenced block: where it starts (1-based line of the opening fence) and its text."""

    path: str  # relative to the repository root, e.g. "docs/cli.md"
    line: int
    language: str
    text: str

    @property
    def is_command(self) -> bool:
        return self.language in COMMAND_LANGUAGES

    def __str__(self) -> str:
        first = self.text.splitlines()[0] if self.text else ""
        return f"{self.path}:{self.line} ```{self.language}: {first}"


def documentation_files() -> list[Path]:
    """The README and every page under docs/: the Markdown whose commands must all run."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def read_blocks(path: Path) -> list[Block]:
    """Every fenced block of ``path``, its text without the opening fence's indentation.

    An unclosed fence raises ``ValueError`` naming the line, so a broken page cannot hide
    commands from the tests.
    """
    relative = path.relative_to(ROOT).as_posix()
    blocks: list[Block] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        indent = opening.group("indent")
        body: list[str] = []
        end = index + 1
        while end < len(lines) and not _CLOSE.match(lines[end]):
            body.append(lines[end][len(indent):] if lines[end].startswith(indent) else lines[end].lstrip())
            end += 1
        if end == len(lines):
            raise ValueError(f"{relative}:{index + 1}: a fenced block that is never closed")
        blocks.append(Block(relative, index + 1, opening.group("language"), "\n".join(body)))
        index = end + 1
    return blocks


def all_blocks() -> list[Block]:
    return [block for path in documentation_files() for block in read_blocks(path)]


def command_blocks() -> list[Block]:
    return [block for block in all_blocks() if block.is_command]
