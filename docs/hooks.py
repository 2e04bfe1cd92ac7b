"""MkDocs hooks (mkdocs.yml): tables generated from the code itself, so they cannot drift."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generators import GENERATORS  # noqa: E402

_MARKER = re.compile(r"^<!-- generated: ([\w-]+) -->$", re.M)


def on_page_markdown(markdown: str, **kwargs: Any) -> str:
    def generate(match: "re.Match[str]") -> str:
        name = match.group(1)
        if name not in GENERATORS:
            raise ValueError(f"unknown generator {name!r} (known: {sorted(GENERATORS)})")
        return GENERATORS[name]()

    return _MARKER.sub(generate, markdown)
