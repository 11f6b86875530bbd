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
