"""A griffe extension for the API reference (mkdocs.yml loads it into mkdocstrings).

The Rust extension module ``tableau_connected_auth._core`` is read from its stubs (``_core.pyi``)
for signatures and types, but its documentation is the Rust doc comments, which PyO3 turns into
each object's ``__doc__``: what ``help()`` shows in a notebook. This extension puts those
runtime docstrings on the stub objects, so the site and ``help()`` say the same thing, written in
one place.

Docstrings are written for ``help()``, in reStructuredText's small habits (``:class:`Client```,
````literal````, a ``::`` literal block). :func:`markdown` turns those into Markdown with
cross-references; ``tests/test_docs.py`` loads the package through this extension to find and
run the docstrings' code blocks as the site shows them.
"""

from __future__ import annotations

import importlib
import inspect
import re
import textwrap
from typing import Any, Callable, Iterator, List, Optional

import griffe

PACKAGE = "tableau_connected_auth"
#: The package's modules that the reference documents (tests/test_docs.py checks their names).
PUBLIC_MODULES = ("testing", "auth", "tsc", "airflow", "telemetry", "pytest_plugin")
_ROLE = re.compile(r":(?:class|meth|func|attr|exc|mod|data):`~?([^`<>]+?)`")
_LITERAL = re.compile(r"``([^`]+?)``")


def _runtime(path: str) -> Any:
    """The live object at a dotted path such as ``tableau_connected_auth._core.Client.session``,
    or None."""
    module_path, _, rest = path.partition("._core")
    obj: Any = importlib.import_module(module_path + "._core")
    for part in rest.strip(".").split(".") if rest else []:
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def _runtime_doc(path: str) -> Optional[str]:
    obj = _runtime(path)
    if obj is None:
        return None
    doc = getattr(obj, "__doc__", None)
    if not isinstance(doc, str) or not doc.strip():
        return None
    # builtins (a property's getter without docs, str constants) carry their type's docstring
    if doc == type(obj).__doc__ or doc.startswith(("str(", "int(", "float(", "Initialize self")):
        return None
    return doc


def _fence_literal_blocks(text: str) -> str:
    lines = text.splitlines()
    out: List[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.rstrip().endswith("::"):
            lead = line.rstrip()[:-2].rstrip()
            if lead:
                out.append(lead + ":")
            block: List[str] = []
            j = i + 1
            while j < len(lines) and (not lines[j].strip() or lines[j].startswith((" ", "\t"))):
                block.append(lines[j])
                j += 1
            while block and not block[-1].strip():
                block.pop()
            code = textwrap.dedent("\n".join(block)).strip("\n")
            out += ["", "```python", code, "```", ""]
            i = j
            continue
        out.append(line)
        i += 1
    return "\n".join(out)


def markdown(text: str, resolve: Callable[[str], Optional[str]]) -> str:
    """A ``help()``-style docstring as Markdown: literal blocks fenced, roles turned into
    cross-references (``resolve`` maps a name to a documented path, or None for plain code)."""
    text = _fence_literal_blocks(text)
    parts = re.split(r"(```python\n.*?```)", text, flags=re.S)

    def role(match: "re.Match[str]") -> str:
        name = match.group(1).strip()
        target = resolve(name)
        short = name.rsplit(".", 1)[-1] if name.startswith(PACKAGE) else name
        return f"[`{short}`][{target}]" if target else f"`{short}`"

    for index in range(0, len(parts), 2):  # the even parts are prose
        prose = _LITERAL.sub(r"`\1`", _ROLE.sub(role, parts[index]))
        # outside `code`, a "<site LUID>" would be taken for an HTML tag and vanish
        pieces = re.split(r"(`[^`]*`)", prose)
        pieces[::2] = [p.replace("<", "&lt;").replace(">", "&gt;") for p in pieces[::2]]
        parts[index] = "".join(pieces)
    return "".join(parts)


class RuntimeDocstrings(griffe.Extension):
    """Runtime docstrings for ``_core``'s stubs, then every docstring of the package as
    Markdown; and a class's ``__new__`` (how PyO3 classes are made) shown as its signature."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        if pkg.path != PACKAGE:
            return
        classes = [obj for obj in _walk(pkg) if isinstance(obj, griffe.Class)]
        for cls in classes:
            if "__init__" not in cls.members:
                _constructor_from_new(cls)
        for cls in classes:
            if "__init__" not in cls.members:
                try:
                    _inherit_constructor(cls)
                except (griffe.AliasResolutionError, griffe.CyclicAliasError, ValueError):
                    pass  # a base outside the package (Exception, dict): nothing to show
        resolver = _resolver(pkg)
        for obj in _walk(pkg):
            if obj.path.startswith(PACKAGE + "._core"):
                doc = _runtime_doc(obj.path)
                if doc is not None:
                    obj.docstring = griffe.Docstring(_clean(doc), parent=obj)
            if obj.docstring is not None:
                obj.docstring = griffe.Docstring(markdown(obj.docstring.value, resolver), parent=obj)


def _without_cls(new: griffe.Function, *, overload: bool = False) -> griffe.Function:
    """``__new__(cls, ...)`` as ``__init__(self, ...)`` (an overload without ``self``: only the
    main signature has it dropped by mkdocstrings)."""
    params = griffe.Parameters()
    if not overload:
        params.add(griffe.Parameter("self", kind=griffe.ParameterKind.positional_or_keyword))
    for p in list(new.parameters)[1:]:
        params.add(p)
    init = griffe.Function("__init__", parameters=params, returns="None", lineno=new.lineno, endlineno=new.endlineno)
    init.docstring = new.docstring
    return init


def _constructor_from_new(cls: griffe.Class) -> None:
    """An ``__init__`` with ``__new__``'s parameters (how PyO3 classes are made, and what the
    stubs declare), which mkdocstrings shows as the class's signature (``merge_init_into_class``);
    an overloaded ``__new__`` gives one signature per overload."""
    new = cls.members.get("__new__")
    overloads = cls.overloads.get("__new__") or []
    if isinstance(new, griffe.Function):
        init = _without_cls(new)
    elif overloads:
        init = _without_cls(overloads[0])
    else:
        return
    if len(overloads) > 1:
        init.overloads = [_without_cls(o, overload=True) for o in overloads]
    init.parent = cls
    cls.set_member("__init__", init)


def _inherit_constructor(cls: griffe.Class) -> None:
    """A subclass defined in Python (``Client(_core.Client)``) shows its base's signature."""
    for base in cls.mro():
        init = base.members.get("__init__")
        if isinstance(init, griffe.Function):
            copy = griffe.Function("__init__", parameters=init.parameters, returns=init.returns,
                                   lineno=init.lineno, endlineno=init.endlineno)
            copy.overloads = init.overloads
            copy.parent = cls
            cls.set_member("__init__", copy)
            return


def _clean(doc: str) -> str:
    """A runtime docstring without PyO3's text signature line (the stubs give the signature)."""
    doc = textwrap.dedent(doc) if doc.startswith((" ", "\n")) else doc
    first, _, rest = doc.partition("\n")
    if re.match(r"^\w+\(.*\)$", first.strip()) and rest.startswith("--"):
        doc = rest.partition("\n")[2]
    return inspect.cleandoc(doc)


def _walk(obj: griffe.Object) -> Iterator[griffe.Object]:
    yield obj
    for member in list(obj.members.values()):
        if isinstance(member, griffe.Alias):
            continue
        yield from _walk(member)


def _resolver(pkg: griffe.Module) -> Callable[[str], Optional[str]]:
    """Maps a name in a docstring to the path the reference documents it under."""
    exported = set(pkg.exports or [])

    def resolve(name: str) -> Optional[str]:
        relative = name[len(PACKAGE) + 1 :] if name.startswith(PACKAGE + ".") else name
        head = relative.partition(".")[0]
        if head in exported or head in PUBLIC_MODULES:
            return f"{PACKAGE}.{relative}"
        return None  # private, or not ours: shown as code

    return resolve
