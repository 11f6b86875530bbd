"""The import layering: steps in data-flow order, none importing a later one.

Read from the source with `ast` (nothing is imported), every `import reporter...` and
`from reporter... import` anywhere in a module, the lazy ones inside functions included. Imports
under `if TYPE_CHECKING:` do not count: they name types and import nothing when the code runs
(import-linter's `exclude_type_checking_imports`).
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

PACKAGE = ROOT / "reporter"
# The steps in the order data flows through them (DESIGN.md §6), then the entry points.
STEPS = (
    "codes",
    "ingest",
    "outcomes",
    "queries",
    "extracts",
    "buckets",  # outcomes and the messages extract per hash bucket, past the memory limit (issue 16)
    "spark",  # the Spark engine: ingest, outcomes and the messages extract on Spark; run.py picks it
    "warehouse",
    "report",
    "mail",
    "run",
    "nightly",
    "cli",
    "__main__",
    "spark.submit",  # the driver script spark-submit runs: an entry point, like __main__
)
# Inside the ingest step, its modules in the order a file meets them (docs/contributing.md): each imports
# only the ones before it.
INGEST_STEPS = (
    "content",  # a file's bytes: decompressed, counted, hashed
    "sources",  # the inputs named, and each file's format
    "csv_lines",
    "json_array",
    "mapping",
    "stage",  # what every reader shares
    "csv_reader",
    "json_reader",
    "parquet_reader",
    "readers",
    "results",  # the reconciliation
    "dedup",
    "pipeline",  # ingest(): every file, start to end
    "bucketed",  # Parquet past the memory limit: ingest into bucket files, read back bucket by bucket
)
# Every other module is a base module (errors, engine, fsio, config, privacy, vocabulary...): it
# may import other base modules and the code dimension (the vocabulary's data), never a step after it.
BASE_MAY_IMPORT = {"codes"}


def _layer(module: str) -> str:
    """`reporter.ingest.pipeline` -> `ingest`; `reporter.spark.submit` -> `spark.submit` (a layer of its
    own in STEPS); `reporter` itself -> `__init__`."""
    parts = module.split(".")[1:]
    for size in range(len(parts), 1, -1):
        if ".".join(parts[:size]) in STEPS:
            return ".".join(parts[:size])
    return parts[0] if parts else "__init__"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(source: str, package: str) -> set[str]:
    """Every reporter module a module of `package` imports ("from reporter import privacy" too)."""
    found: set[str] = set()
    tree = ast.parse(source)
    typing_only = {
        id(n)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
        for stmt in block.body
        for n in ast.walk(stmt)
    }
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "reporter")
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolved against the importing package
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            if base.split(".")[0] != "reporter":
                continue
            found.add(base)
            if base == "reporter":  # `from reporter import privacy`: the names may be modules
                found.update(f"reporter.{a.name}" for a in node.names if a.name != "__version__")
    return found


def _graph() -> dict[str, set[str]]:
    graph = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = _module_name(path)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        graph[name] = _imports(path.read_text(encoding="utf-8"), package)
    return graph


def _violations(graph: dict[str, set[str]]) -> list[str]:
    rank = {step: i for i, step in enumerate(STEPS)}
    found = []
    for module, imported in sorted(graph.items()):
        mine = _layer(module)
        for target in sorted(imported):
            theirs = _layer(target)
            if theirs in ("__init__", mine):
                continue
            if mine in rank:
                bad = theirs in rank and rank[theirs] > rank[mine]
            else:
                bad = theirs in rank and theirs not in BASE_MAY_IMPORT
            if bad:
                found.append(f"{module} imports {target}")
    return found


def test_no_module_imports_a_later_step():
    graph = _graph()
    assert graph.get("reporter.ingest.pipeline")  # the walk sees imports
    assert _violations(graph) == []


def test_ingest_modules_import_only_the_ones_before_them():
    rank = {f"reporter.ingest.{name}": i for i, name in enumerate(INGEST_STEPS)}
    graph = _graph()
    assert set(rank) == {m for m in graph if m.startswith("reporter.ingest.")}, (
        "a new module joins INGEST_STEPS"
    )
    later = [f"{m} imports {t}" for m in rank for t in sorted(graph[m]) if rank.get(t, -1) > rank[m]]
    assert later == []


def test_ingest_imports_nothing_of_the_steps_after_it():
    later = {"outcomes", "queries", "extracts", "warehouse", "report", "run", "nightly", "mail", "cli"}
    for module, imported in _graph().items():
        if _layer(module) == "ingest":
            assert not {t for t in imported if _layer(t) in later}, module


def test_the_check_catches_an_import_back_up_and_a_base_module_importing_a_step():
    graph = {
        "reporter.ingest.pipeline": {"reporter.extracts"},
        "reporter.outcomes": {"reporter.ingest", "reporter.privacy"},
        "reporter.privacy": {"reporter.outcomes"},
        "reporter.labels": {"reporter.codes.channels"},
    }
    assert _violations(graph) == [
        "reporter.ingest.pipeline imports reporter.extracts",
        "reporter.privacy imports reporter.outcomes",
    ]


def test_relative_and_lazy_imports_are_seen():
    source = (
        "from . import mapping\ndef f():\n    from ..extracts import manifest\n    import reporter.report\n"
    )
    found = _imports(source, "reporter.ingest")
    assert found == {"reporter.ingest", "reporter.extracts", "reporter.report"}
    typed = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from reporter.run import RunOptions\n"
    assert _imports(typed, "reporter.spark") == set()
    assert _layer("reporter.spark.submit") == "spark.submit" and _layer("reporter.spark.write") == "spark"
