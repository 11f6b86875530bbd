"""Installed like any Python tool: a built wheel, a fresh virtualenv, commands run from another folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from reporter import __version__
from tests.conftest import ROOT

# What a wheel is built from: the files a source distribution carries (MANIFEST.in adds queries/).
SOURCES = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "reporter", "queries")


def _sh(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{args}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


def _build_wheel(tmp: Path) -> Path:
    """The wheel, built from a copy of the sources (a stale build/ in the checkout cannot leak in)."""
    src = tmp / "src"
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            src.mkdir(exist_ok=True)
            shutil.copy2(path, src / name)
    _sh([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp / "dist"), str(src)], tmp)
    (wheel,) = (tmp / "dist").glob("reporter-*.whl")
    return wheel


def _fresh_venv(tmp: Path, wheel: Path) -> Path:
    """A new virtualenv holding the wheel; its dependencies are borrowed from the test's environment
    by a .pth line (installing polars, duckdb and matplotlib again would only test pip)."""
    venv = tmp / "venv"
    _sh([sys.executable, "-m", "venv", "--without-pip", str(venv)], tmp)
    python = venv / "bin" / "python"
    _sh([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", str(wheel)], tmp)
    purelib = Path(
        _sh(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], tmp
        ).stdout.strip()
    )
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (purelib / "zz_test_dependencies.pth").write_text("\n".join(sorted(deps)) + "\n", encoding="utf-8")
    return venv


@pytest.mark.slow
def test_a_wheel_in_a_fresh_virtualenv_runs_every_command_from_any_folder(tmp_path):
    wheel = _build_wheel(tmp_path)
    venv = _fresh_venv(tmp_path, wheel)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPORTER_")}
    env["PYTHONPATH"] = ""
    reporter = str(venv / "bin" / "reporter")

    # The package comes from the virtualenv, not from the repository.
    where = _sh(
        [str(venv / "bin" / "python"), "-c", "import reporter; print(reporter.__file__)"], elsewhere, env
    )
    assert where.stdout.strip().startswith(str(venv))
    assert _sh([reporter, "--version"], elsewhere, env).stdout.strip() == f"reporter, version {__version__}"

    _sh([reporter, "run", str(ROOT / "sample_logs"), "--out", "out"], elsewhere, env)
    assert (elsewhere / "out" / "report.html").is_file()
    assert (elsewhere / "out" / "extracts" / "by_code.parquet").is_file()

    listed = _sh([reporter, "query", "--list"], elsewhere, env).stdout
    names = {line.split("\t")[0] for line in listed.splitlines()}
    assert names == {p.stem for p in (ROOT / "queries").glob("*.sql")}
    by_code = _sh(
        [reporter, "query", "by_code", "--warehouse", "out/warehouse.duckdb", "--format", "csv"],
        elsewhere,
        env,
    ).stdout
    assert by_code.startswith("channel,")

    template = str(ROOT / "sample_logs" / "events-{date}.csv")
    _sh(
        [reporter, "nightly", "--date", "2026-11-23", "--input", template, "--reports", "reports"],
        elsewhere,
        env,
    )
    assert (elsewhere / "reports" / "2026-11-23" / "manifest.json").is_file()
    assert (elsewhere / "reports" / "warehouse.duckdb").is_file()
