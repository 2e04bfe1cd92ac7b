"""The code blocks of the documentation: found in docs/*.md and in the docstrings the API
reference renders, and run (tests/test_docs.py).

The rules, for whoever writes a page:

- ``python`` blocks run, in order, in one Python process per page (like a notebook: later blocks
  see what earlier ones defined; top-level ``await`` works). The process's environment has
  ``FakeTableau.environment()`` of a fresh fake: ``Client.from_env()``, ``AsyncClient.from_env()``
  and ``CloudManagerClient.from_env()`` sign in to it. The current directory is a new temporary
  one.
- ``console`` blocks: each ``$ command`` runs with bash in that environment and must exit 0. The
  lines after a command are its expected output (see below).
- ``output`` blocks are the expected output of the block just above: each non-blank line must
  appear, in order, in what that block printed; ``...`` inside a line matches anything.
- ``toml``, ``json``, ``yaml`` and ``ini`` blocks are parsed.
- ``text`` blocks are prose, tables or diagrams, not code.
- A block that cannot run here starts with a comment that says so: ``# Needs a real Tableau …``
  (or ``# Needs a real …``) or ``# Not run: <why>``. Such a ``python`` block is still compiled.
- Any other language fails the test: say what it is, or mark it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, List, Optional

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"

RUN = {"python", "console"}
PARSE = {"toml", "json", "yaml", "ini"}
PROSE = {"text"}
OUTPUT = "output"
MARKERS = ("# Needs a real", "# Not run:")

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`]*)$")


@dataclass
class Block:
    source: str  # "docs/guides/airflow.md:42" or "docstring of tableau_connected_auth.X"
    language: str
    code: str

    @property
    def marked(self) -> Optional[str]:
        """The marker line, when the block says it is not run."""
        for line in self.code.splitlines():
            if line.strip():
                return line.strip() if line.strip().startswith(MARKERS) else None
        return None


def fenced_blocks(text: str, source: str) -> Iterator[Block]:
    """The fenced code blocks of a Markdown text (also inside admonitions and tabs)."""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        indent, fence = opening["indent"], opening["fence"]
        info = opening["info"].strip()
        language = info.split()[0].lstrip("{.").rstrip("}") if info else ""
        body: List[str] = []
        j = i + 1
        while j < len(lines) and lines[j].strip() != fence:
            body.append(lines[j][len(indent):] if lines[j].startswith(indent) else lines[j].lstrip())
            j += 1
        yield Block(f"{source}:{i + 1}", language, "\n".join(body) + "\n")
        i = j + 1


def page_blocks(page: Path) -> List[Block]:
    return list(fenced_blocks(page.read_text(encoding="utf-8"), str(page.relative_to(ROOT))))


def pages() -> List[Path]:
    return sorted(p for p in DOCS.rglob("*.md") if p.name != "README.md")


def console_commands(block: Block) -> Iterator[tuple[str, List[str]]]:
    """``(command, expected output lines)`` for each ``$ command`` of a console block."""
    command: Optional[str] = None
    expected: List[str] = []
    lines = iter(block.code.splitlines())
    for line in lines:
        if line.startswith("$ "):
            if command is not None:
                yield command, expected
            command, expected = line[2:], []
            while command.endswith("\\"):
                command = command[:-1] + " " + next(lines, "").strip()
        elif command is not None:
            expected.append(line)
    if command is not None:
        yield command, expected


def missing_output(expected: List[str], actual: str) -> List[str]:
    """The expected lines not found, in order, in ``actual`` (``...`` matches anything)."""
    actual_lines = actual.splitlines()
    position = 0
    missing = []
    for line in (e.strip() for e in expected):
        if not line:
            continue
        pattern = re.compile(".*".join(re.escape(part) for part in line.split("...")))
        for k in range(position, len(actual_lines)):
            if pattern.search(actual_lines[k]):
                position = k + 1
                break
        else:
            missing.append(line)
    return missing
