"""Runs one documentation page's code blocks in order, in this process (tests/test_docs.py starts
it with a FakeTableau's environment). Reads a JSON list of ``{"language", "source", "code"}``
from the file named by argv[1]; writes a JSON list of ``{"source", "outputs", "error"}`` to the
file named by argv[2], stopping at the first block that fails."""

from __future__ import annotations

import ast
import asyncio
import contextlib
import inspect
import io
import json
import subprocess
import sys
import traceback
from typing import Any, Dict, List

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
from docs_snippets import Block, console_commands  # noqa: E402


def run_python(block: Block, namespace: Dict[str, Any]) -> List[str]:
    code = compile(block.code, block.source, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        result = eval(code, namespace)  # a block with top-level await gives a coroutine
        if inspect.iscoroutine(result):
            loop = namespace.setdefault("__loop__", asyncio.new_event_loop())
            loop.run_until_complete(result)
    return [out.getvalue()]


def run_console(block: Block) -> List[str]:
    """What each command printed, in order."""
    outputs = []
    for command, _ in console_commands(block):
        done = subprocess.run(
            ["bash", "-c", command], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120
        )
        outputs.append(done.stdout)  # stdout and stderr, in the order they were written
        if done.returncode != 0:
            raise RuntimeError(f"$ {command}\nexited {done.returncode}:\n{done.stdout}")
    return outputs


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as f:
        blocks = [Block(**b) for b in json.load(f)]
    namespace: Dict[str, Any] = {"__name__": "__main__"}
    results: List[Dict[str, Any]] = []
    for block in blocks:
        try:
            outputs = run_python(block, namespace) if block.language == "python" else run_console(block)
            results.append({"source": block.source, "outputs": outputs, "error": None})
        except BaseException:
            results.append({"source": block.source, "outputs": [], "error": traceback.format_exc()})
            break
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        json.dump(results, f)


if __name__ == "__main__":
    main()
