"""Docs that cannot drift: every command, option and dimension column is documented."""

from __future__ import annotations

import re

from reporter.cli import cli
from reporter.codes.dimension import JOIN_SCHEMA, ROW_SCHEMA
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_command_has_help_and_is_in_the_readme():
    for name, command in cli.commands.items():
        assert command.help, name
        assert f"`reporter {name}" in README, f"reporter {name} is not in README.md"


def test_every_dimension_column_is_documented():
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", README, flags=re.MULTILINE))
    missing = (set(ROW_SCHEMA) | set(JOIN_SCHEMA)) - documented
    assert not missing, f"columns missing from README.md: {sorted(missing)}"


def test_every_exit_code_is_in_the_readme():
    from reporter.errors import ExitCode

    for code in ExitCode:
        assert f"| {int(code)} | {code.name} |" in README, code


def test_every_extract_column_is_documented(tmp_path):
    import polars as pl

    from reporter.run import RunOptions, run
    from tests.conftest import DATA

    run(RunOptions((str(DATA / "webhook.ndjson"), str(DATA / "bom.csv")), tmp_path))
    doc = (ROOT / "docs" / "extracts.md").read_text(encoding="utf-8")
    for path in sorted((tmp_path / "extracts").rglob("*.parquet")):
        # The dimension's columns are documented once, in the README.
        text = README if path.name.startswith("status_code") else doc
        for column in pl.read_parquet_schema(path):
            assert f"`{column}`" in text, f"{column} of {path.name} is not documented"


def test_every_named_query_is_in_the_readme_table():
    from reporter.queries import load_queries

    for name, query in load_queries().items():
        params = ", ".join(f"`${p}`" for p in query.params)
        assert f"| `{name}` | {query.title} | {params} |" in README, (
            f"query {name} is not in README.md's table"
        )


def test_every_event_field_is_in_the_readme_table():
    """The README's table of fields says what reporter/schema.py declares: names, aliases, notes."""
    from reporter import schema

    for f in schema.FIELDS:
        row = f"| `{f.name}` | {', '.join((f.name, *f.aliases))} | {f.doc} |"
        assert row in README, f"README.md's table of fields needs this row for {f.name}:\n{row}"
