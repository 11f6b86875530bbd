"""Ships the named queries inside the package; everything else is declared in pyproject.toml.

The queries are written in one place, the top-level `queries/` (analysts read and edit them
there). A built wheel must carry them, since an installed package has no repository beside it:
build_py copies `queries/*.sql` into `reporter/named_queries/` of the build. An editable install
(`pip install -e .`, what the Makefile does) needs no copy: `reporter.queries` reads `queries/`
in place when the package sits in its repository.
"""

from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

QUERIES = Path(__file__).resolve().parent / "queries"


class BuildWithQueries(build_py):
    """build_py, plus queries/*.sql into reporter/named_queries/ (wheel builds only)."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "reporter" / "named_queries"
        self.mkpath(str(target))
        for sql in sorted(QUERIES.glob("*.sql")):
            self.copy_file(str(sql), str(target / sql.name))


setup(cmdclass={"build_py": BuildWithQueries})
