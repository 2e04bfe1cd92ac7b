"""Markdown made from the code and the README, for docs/hooks.py's ``<!-- generated: name -->``
markers: the environment variables (from ``_env``'s tables), the ``tableau-auth`` commands (from
its argparse parser) and the platform table (from the README, where visitors see it first)."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Callable, Dict, Iterable, Tuple

ROOT = Path(__file__).resolve().parent.parent


def cell(text: object) -> str:
    """Text for one cell of a Markdown table."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _variables(rows: Iterable[Tuple[str, str, str]]) -> str:
    lines = ["| Variable | `from_env()` keyword | Meaning |", "|---|---|---|"]
    lines += [f"| `{name}` | `{key}=` | {cell(meaning)} |" for key, name, meaning in rows]
    return "\n".join(lines) + "\n"


def environment() -> str:
    from tableau_connected_auth import _env

    other = ["| Variables | Meaning |", "|---|---|"]
    other += [f"| {', '.join(f'`{n}`' for n in names)} | {cell(meaning)} |" for names, meaning in _env.OTHER_VARIABLES]
    return "\n".join([
        "## `Client.from_env()`, `AsyncClient.from_env()` and `tableau-auth`\n",
        _variables(_env.SITE_VARIABLES),
        "## `CloudManagerClient.from_env()` and `tableau-auth --cloud-manager`\n",
        _variables(_env.CLOUD_MANAGER_VARIABLE_TABLE),
        "## Read by every client\n",
        "\n".join(other) + "\n",
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
            out.append(f"**{cell(title[0].upper() + title[1:])}**\n\n| Flag | Meaning |\n|---|---|")
            for action in actions:
                meaning = action.help or ""
                if action.default not in (None, False, argparse.SUPPRESS):
                    meaning += f" (default: `{action.default}`)"
                out.append(f"| `{_flag(action)}` | {cell(meaning)} |")
            out.append("")
    return "\n".join(out)


def platforms() -> str:
    """The README's platform table (the rows under its "## Install" heading)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"^\| platform \|.*?(?=\n\n)", readme, re.M | re.S)
    if match is None:
        raise ValueError("README.md has no platform table (a table whose first column is 'platform')")
    return match.group(0) + "\n"


GENERATORS: Dict[str, Callable[[], str]] = {"environment": environment, "cli": cli, "platforms": platforms}
