"""Markdown made from the code and the README, for docs/hooks.py's ``<!-- generated: name -->``
markers: the troubleshooting tables (from the core's hint tables, the ones errors take their
hints from), the environment variables (from ``_env``'s tables), the ``tableau-auth`` commands
(from its argparse parser) and the platform table (from the README, where visitors see it
first)."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from mkdocs.exceptions import PluginError

from tableau_connected_auth import _core

ROOT = Path(__file__).resolve().parent.parent


#: Every character Python-Markdown (with the tables extension) reads as syntax and lets a
#: backslash escape. ``<``, ``>`` and ``&`` are written as HTML entities instead.
_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|])")


def text(value: str) -> str:
    """``value`` as plain text in Markdown (also inside a table cell): nothing in it is read as
    emphasis, a link, HTML or a cell boundary."""
    value = " ".join(value.split())
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _SPECIAL.sub(r"\\\1", value)


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table; the cells must already be Markdown (see :func:`text`)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


# --- troubleshooting: the hints of the core's error tables ------------------------------------

#: The core's hint tables (``_core.hint_table()``'s ``table``), in the order they are tried:
#: a heading and what decides a row there.
_HINT_TABLES = {
    "subcode": (
        "Connected-app sub-codes",
        "Tried first: when `detail` ends with one of these sub-codes, as in \"Error signing in "
        "to Tableau Server (16)\", its row gives the hint.",
    ),
    "cloud_manager": (
        "Tableau Cloud Manager",
        "Tried next. Tableau Cloud Manager's error codes are not documented, so these go by "
        "HTTP status and call.",
    ),
    "tableau": (
        "Tableau error codes",
        "Tried last, from the top: the first row that fits the answer gives the hint.",
    ),
}


def _any(value: Optional[object]) -> str:
    return "any" if value is None else text(str(value))


def _code(code: Optional[str]) -> str:
    if code is None:
        return "any"
    return f"`{code}`" if code else "none in the answer"


#: The columns a hint table can have: header, the cell of a row, and whether the row leaves
#: this column open (when every row of a table does, the column is left out).
_HINT_COLUMNS: List[tuple[str, Callable[[_core._HintRow], str], Callable[[_core._HintRow], bool]]] = [
    ("sub-code", lambda r: _any(r["subcode"]), lambda r: r["subcode"] is None),
    ("code", lambda r: _code(r["code"]), lambda r: r["code"] is None),
    ("HTTP status", lambda r: _any(r["status"]), lambda r: r["status"] is None),
    ("call", lambda r: text(", ".join(r["calls"])), lambda r: r["calls"] == ["any call"]),
    ("hint", lambda r: text(r["hint"]), lambda r: False),
]


def troubleshooting() -> str:
    """One table per hint table of the core, in the order the core tries them."""
    rows = _core.hint_table()
    unknown = sorted({r["table"] for r in rows} - set(_HINT_TABLES))
    if unknown:
        raise PluginError(f"generators.py: the core has hint tables this page does not name: {unknown}")
    parts = []
    for name, (heading, intro) in _HINT_TABLES.items():
        mine = [r for r in rows if r["table"] == name]
        columns = [c for c in _HINT_COLUMNS if not all(c[2](r) for r in mine)]
        cells = [[cell(r) for _, cell, _ in columns] for r in mine]
        parts.append(f"### {heading}\n\n{intro}\n\n" + table([c[0] for c in columns], cells))
    return "\n\n".join(parts) + "\n"



def cell(text: object) -> str:
    """Text for one cell of a Markdown table."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _variables(rows: Iterable[Tuple[str, str, str]]) -> str:
    cells = [[f"`{name}`", f"`{key}=`", cell(meaning)] for key, name, meaning in rows]
    return table(["Variable", "`from_env()` keyword", "Meaning"], cells) + "\n"


def environment() -> str:
    from tableau_connected_auth import _env

    other = [[", ".join(f"`{n}`" for n in names), cell(meaning)] for names, meaning in _env.OTHER_VARIABLES]
    return "\n".join([
        "## `Client.from_env()`, `AsyncClient.from_env()` and `tableau-auth`\n",
        _variables(_env.SITE_VARIABLES),
        "## `CloudManagerClient.from_env()` and `tableau-auth --cloud-manager`\n",
        _variables(_env.CLOUD_MANAGER_VARIABLE_TABLE),
        "## Read by every client\n",
        table(["Variables", "Meaning"], other) + "\n",
    ])


def _flag(action: argparse.Action) -> str:
    flag = ", ".join(action.option_strings) or action.dest
    if action.choices:
        return flag + " {" + ",".join(map(str, action.choices)) + "}"
    if action.nargs != 0:
        return flag + " " + (action.metavar if isinstance(action.metavar, str) else action.dest.upper())
    return flag


def cli() -> str:
    from tableau_connected_auth import cli as command

    parser = command._parser()
    out = []
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helps = {c.dest: c.help for c in commands._choices_actions}
    for name, sub in commands.choices.items():
        sub.prog = f"tableau-auth {name}"
        out.append(f"## `tableau-auth {name}`\n\n{cell(helps.get(name, '')).capitalize()}.\n")
        out.append(f"```text\n{sub.format_usage().strip()}\n```\n")
        for group in sub._action_groups:
            actions = [a for a in group._group_actions if not isinstance(a, argparse._HelpAction)]
            if not actions:
                continue
            title = "Options" if group.title in ("options", "optional arguments") else str(group.title)
            rows = []
            for action in actions:
                meaning = action.help or ""
                if action.default not in (None, False, argparse.SUPPRESS):
                    meaning += f" (default: `{action.default}`)"
                rows.append([f"`{_flag(action)}`", cell(meaning)])
            out.append(f"**{cell(title[0].upper() + title[1:])}**\n\n" + table(["Flag", "Meaning"], rows) + "\n")
    return "\n".join(out)


def platforms() -> str:
    """The README's platform table (the rows under its "## Install" heading)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"^\| platform \|.*?(?=\n\n)", readme, re.M | re.S)
    if match is None:
        raise ValueError("README.md has no platform table (a table whose first column is 'platform')")
    return match.group(0) + "\n"


#: What each marker name generates.
GENERATORS: Dict[str, Callable[[], str]] = {
    "troubleshooting": troubleshooting,
    "environment": environment,
    "cli": cli,
    "platforms": platforms,
}
