"""What people read comes from two places only: the dialogue's responses (domain/*.yml) and the catalogue
(core/texts.py). A Chinese string literal anywhere else in the code is text that escaped the catalogue,
unless it is on the short allowlist below: words the code reads rather than says."""

from __future__ import annotations

import ast
import re
import string

from core import texts
from kejibang.settings import PROJECT_ROOT

CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
CATALOGUE = "core/texts.py"
NOT_CODE = (".venv/", "tests/", "models/", "var/", "kejibang.egg-info/")

# Whole folders or modules, and why their Chinese is not the assistant's text to people.
ALLOWED_MODULES = {
    # the exchange is a service of its own (HTTP API, exchange/openapi.yaml, run remotely in production): its
    # error messages are part of its answers, and the bot only passes them on (InputRejected's reason), as it
    # must with a remote exchange; the rest is its lexicon (gazetteer, matcher knowledge, subjects)
    "exchange/": "the exchange's own API messages and its lexicon",
    "understanding/need_evidence.py": "cue words and patterns the NLU component reads in farmers' messages",
    "bench/": "benchmark fixtures and reports, never sent to a chat",
}
# Module-level constants whose Chinese is words the code reads (matched in what people type), not says.
ALLOWED_CONSTANTS = {
    "actions/need.py": {"URGENT_WORDS"},
    "actions/registration.py": {"_NAME_PREFIX", "_NOT_NAMES", "_ROLE_WORDS", "_FIELD_WORDS"},
    "actions/science.py": {"_STOP"},
    "core/dialogue.py": {"WARM_UP_TEXT"},  # the message the model is warmed up with, never shown
    "kejibang/privacy.py": {"_LABELLED_NAME", "_CHINESE_DIGITS"},  # what personal data looks like in logs
}


def _modules() -> list[str]:
    """Every Python module of the project, as a path relative to its root."""
    paths = (str(path.relative_to(PROJECT_ROOT)) for path in PROJECT_ROOT.rglob("*.py"))
    return sorted(path for path in paths if not path.startswith(NOT_CODE))


def _docstrings(tree: ast.AST) -> set[int]:
    return {id(node.body[0].value) for node in ast.walk(tree)
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and node.body and isinstance(node.body[0], ast.Expr)}


def _constants(tree: ast.Module) -> dict[str, ast.AST]:
    """The module-level assignments by name."""
    named: dict[str, ast.AST] = {}
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
            node, ast.AnnAssign) else []
        named.update({target.id: node for target in targets if isinstance(target, ast.Name)})
    return named


def _chinese_literals(tree: ast.AST, skipped: set[int]) -> list[ast.Constant]:
    return [node for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and CJK.search(node.value) and id(node) not in skipped]


def test_chinese_text_lives_in_the_catalogue() -> None:
    escaped = []
    for path in _modules():
        if path == CATALOGUE or path.startswith(tuple(ALLOWED_MODULES)):
            continue
        tree = ast.parse((PROJECT_ROOT / path).read_text(encoding="utf-8"))
        skipped = _docstrings(tree)
        for name in ALLOWED_CONSTANTS.get(path, ()):
            skipped |= {id(node) for node in ast.walk(_constants(tree)[name])}
        escaped += [f"{path}:{node.lineno}: {node.value[:40]!r}" for node in _chinese_literals(tree, skipped)]
    assert escaped == [], "move these into core/texts.py (or domain/ responses when they are the dialogue's)"


def test_the_allowlist_names_only_what_exists_and_needs_it() -> None:
    modules = _modules()
    assert all(any(path.startswith(prefix) for path in modules) for prefix in ALLOWED_MODULES)
    for path, names in ALLOWED_CONSTANTS.items():
        constants = _constants(ast.parse((PROJECT_ROOT / path).read_text(encoding="utf-8")))
        for name in names:
            assert name in constants, f"{path}: {name} is gone; take it off the allowlist"
            assert _chinese_literals(constants[name], set()), f"{path}: {name} has no Chinese; take it off"


def _catalogue_texts() -> list[str]:
    """Every text of every group (a group's dictionaries give their values)."""
    found: list[str] = []
    for group in vars(texts).values():
        if isinstance(group, type) and group.__module__ == texts.__name__:
            for name, value in vars(group).items():
                if name.isupper():
                    found += list(value.values()) if isinstance(value, dict) else [value]
    return found


def test_every_catalogue_text_is_a_well_formed_template() -> None:
    catalogue = _catalogue_texts()
    assert len(catalogue) > 150
    for text in catalogue:
        list(string.Formatter().parse(text))  # raises on a stray { or }
        assert text == text.strip() or text.startswith("\n"), text
