"""Hermetic tests: UTC, no user config, the vendored document."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reporter.codes import Dimension, build_dimension

os.environ["TZ"] = "UTC"
os.environ.pop("REPORTER_CONFIG", None)

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
DOCUMENT = ROOT / "reporter" / "codes" / "status-codes.txt"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Spark tests last: the JVM they start stays up, so everything else runs without it."""
    items.sort(key=lambda item: item.get_closest_marker("spark") is not None)


@pytest.fixture(scope="session")
def dimension() -> Dimension:
    return build_dimension()


@pytest.fixture(scope="session")
def document_lines() -> list[str]:
    return DOCUMENT.read_text(encoding="utf-8").splitlines()
