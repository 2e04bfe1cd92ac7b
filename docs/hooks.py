"""MkDocs hooks (mkdocs.yml): tables generated from the code itself, so they cannot drift.

A line ``<!-- generated: NAME -->`` in a page is replaced by the Markdown that
``generators.GENERATORS[NAME]`` makes; a name that is not there fails the build (a typo must not
leave a page without its table)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generators import GENERATORS  # noqa: E402

_MARKER = re.compile(r"^[ \t]*<!--\s*generated\s*:\s*(?P<name>.*?)\s*-->[ \t]*$", re.MULTILINE)


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Replaces each ``<!-- generated: NAME -->`` line with what ``GENERATORS[NAME]`` makes."""

    def generate(marker: "re.Match[str]") -> str:
        name = marker["name"]
        generator = GENERATORS.get(name)
        if generator is None:
            raise PluginError(
                f"{page.file.src_path}: no generator named {name!r} for {marker[0].strip()!r} "
                f"(docs/generators.py knows: {', '.join(sorted(GENERATORS))})"
            )
        return generator()

    return _MARKER.sub(generate, markdown)
