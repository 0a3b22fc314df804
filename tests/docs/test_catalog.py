"""The docs' blocks are all accounted for: every command is run by a step of catalog.py, every
other block says what it is, and each example's run command is the same in docs/examples.md and
in the example's own header."""

from __future__ import annotations

import ast
import re
from collections import Counter
from pathlib import Path

import pytest

from .catalog import SCENARIOS, Step
from .markdown import COMMAND_LANGUAGES, OTHER_LANGUAGES, ROOT, Block, all_blocks, command_blocks, read_blocks

STEPS = [step for steps in SCENARIOS.values() for step in steps]


def test_every_block_names_its_language() -> None:
    unnamed = [str(block) for block in all_blocks() if block.language not in COMMAND_LANGUAGES | OTHER_LANGUAGES]
    assert unnamed == [], "fence each block as a command (sh) or as what it is (text, toml, json, xml, python)"


def test_every_command_block_is_run_by_a_step() -> None:
    blocks = command_blocks()
    claimed = {step.block(blocks).text for step in STEPS}
    unclaimed = [str(block) for block in blocks if block.text not in claimed]
    assert unclaimed == [], "add a step for each of these to tests/docs/catalog.py"


@pytest.mark.parametrize("step", STEPS, ids=lambda step: f"{step.doc}:{step.key[:40]}")
def test_each_step_finds_one_block(step: Step) -> None:
    step.block()


def test_no_block_is_run_by_two_steps() -> None:
    blocks = command_blocks()
    runs = Counter(step.block(blocks).text for step in STEPS)
    assert [text for text, count in runs.items() if count > 1] == []


# -- the examples' run commands ----------------------------------------------------------------

EXAMPLES = ROOT / "examples"
# The file of a directory example whose docstring carries its run command.
HEADER_FILES = {"examples/django_project/": "examples/django_project/voicesite/wsgi.py"}


def example_sections() -> dict[str, list[Block]]:
    """docs/examples.md's command blocks, by the example its ``## examples/…`` heading names."""
    page = ROOT / "docs" / "examples.md"
    lines = page.read_text(encoding="utf-8").splitlines()
    headings = [(number, line[3:].strip()) for number, line in enumerate(lines, 1) if line.startswith("## ")]
    sections: dict[str, list[Block]] = {name: [] for _, name in headings}
    for block in read_blocks(page):
        if block.is_command:
            owner = [name for number, name in headings if number < block.line][-1]
            sections[owner].append(block)
    return sections


def header_lines(path: Path) -> list[str]:
    """The lines of a Python file's module docstring, or of a TOML file's leading comments, stripped."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".py":
        docstring = ast.get_docstring(ast.parse(text)) or ""
        return [line.strip() for line in docstring.splitlines()]
    comments = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        comments.append(line.lstrip("#").strip())
    return comments


def test_every_example_has_a_section() -> None:
    examples = {f"examples/{path.name}" for path in EXAMPLES.iterdir() if path.suffix in (".py", ".toml")}
    examples |= {f"examples/{path.name}/" for path in EXAMPLES.iterdir() if path.is_dir() and not path.name.startswith(("_", "."))}
    assert examples == set(example_sections())


@pytest.mark.parametrize("example", sorted(example_sections()))
def test_an_examples_run_command_is_the_one_its_header_shows(example: str) -> None:
    blocks = example_sections()[example]
    assert blocks, f"docs/examples.md shows no command for {example}"
    run_command = [line.strip() for line in blocks[0].text.splitlines()]
    header = header_lines(ROOT / HEADER_FILES.get(example, example))
    windows = [header[start:start + len(run_command)] for start in range(len(header))]
    assert run_command in windows, f"{example}'s header does not show, line for line:\n" + "\n".join(run_command)


def test_the_sip_domain_is_one_name_everywhere() -> None:
    texts = [path.read_text(encoding="utf-8") for path in [ROOT / "README.md", *(ROOT / "docs").glob("*.md"), *EXAMPLES.rglob("*.toml")]]
    domains = {match for text in texts for match in re.findall(r"[\w.-]+\.sip\.twilio\.com", text)}
    assert domains == {"pbx.sip.twilio.com"}


# -- links -------------------------------------------------------------------------------------

_LINK = re.compile(r"\]\((?P<target>[^)\s]+)\)")


def anchors(path: Path) -> set[str]:
    """The anchors GitHub makes of a Markdown file's headings (lower case, punctuation dropped)."""
    found = set()
    inside_fence = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith("```"):
            inside_fence = not inside_fence
        elif not inside_fence and line.startswith("#"):
            heading = line.lstrip("#").strip().lower()
            found.add(re.sub(r"[^\w\- ]", "", heading).replace(" ", "-"))
    return found


def test_every_relative_link_and_anchor_resolves() -> None:
    broken = []
    for page in [ROOT / "README.md", *(ROOT / "docs").glob("*.md"), ROOT / "CHANGES.md", ROOT / "benchmarks" / "README.md"]:
        for match in _LINK.finditer(page.read_text(encoding="utf-8")):
            target = match.group("target")
            if target.startswith(("http://", "https://", "mailto:")):
                continue
            file_part, _, anchor = target.partition("#")
            linked = (page.parent / file_part).resolve() if file_part else page
            if not linked.exists():
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such file)")
            elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such heading)")
    assert broken == []
