"""The overrides file: exceptions to the classification rules, each with a reason."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any

from reporter.codes.rules import FAILURE_CATEGORIES, Classification, retryable
from reporter.errors import ConfigError
from reporter.vocabulary import FAILURE_CLASSES, STATUS_CLASSES

OVERRIDES_NAME = "overrides.toml"
_KEYS = {"channel", "code", "status_class", "failure_category", "retryable", "reason"}


@dataclass(frozen=True)
class Override:
    channel: str
    code: int
    reason: str
    status_class: str | None = None
    failure_category: str | None = None
    retryable: bool | None = None

    @property
    def rule(self) -> str:
        return f"override: {self.reason}"


def _entry(raw: dict[str, Any], where: str) -> Override:
    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r}")
    for key in ("channel", "code", "reason"):
        if key not in raw:
            raise ConfigError(f"{where}: missing {key!r}")
    if not str(raw["reason"]).strip():
        raise ConfigError(f"{where}: 'reason' is empty")
    if raw.get("status_class") not in (None, *STATUS_CLASSES):
        raise ConfigError(f"{where}: unknown status_class {raw['status_class']!r}")
    if raw.get("failure_category") not in (None, *FAILURE_CATEGORIES):
        raise ConfigError(f"{where}: unknown failure_category {raw['failure_category']!r}")
    if not isinstance(raw["code"], int) or not isinstance(raw.get("retryable", False), bool):
        raise ConfigError(f"{where}: 'code' must be an integer and 'retryable' true or false")
    if not {"status_class", "failure_category", "retryable"} & set(raw):
        raise ConfigError(f"{where}: sets none of status_class, failure_category, retryable")
    return Override(**raw)


def load_overrides(path: Path | None = None) -> list[Override]:
    """Overrides from `path`, or the ones shipped with the package."""
    if path is None:
        text, name = (
            resources.files("reporter.codes").joinpath(OVERRIDES_NAME).read_text("utf-8"),
            OVERRIDES_NAME,
        )
    else:
        try:
            text, name = path.read_text("utf-8"), str(path)
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read overrides: {exc.strerror}") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{name}: {exc}") from exc
    if set(data) - {"override"}:
        raise ConfigError(f"{name}: unknown key {sorted(set(data) - {'override'})[0]!r}")
    return [_entry(raw, f"{name}: override #{i}") for i, raw in enumerate(data.get("override", []), 1)]


def apply(base: Classification, override: Override) -> Classification:
    """A classification with the override's values, each recording the override as its rule."""
    result = base
    if override.status_class is not None:
        result = replace(result, status_class=override.status_class, status_class_rule=override.rule)
    if result.status_class not in FAILURE_CLASSES:
        return replace(
            result,
            failure_category=None,
            failure_category_rule=None,
            retryable=None,
            retryable_rule=None,
        )
    if override.failure_category is not None:
        retry, retry_rule = retryable(override.failure_category)
        result = replace(
            result,
            failure_category=override.failure_category,
            failure_category_rule=override.rule,
            retryable=retry,
            retryable_rule=retry_rule,
        )
    if override.retryable is not None:
        result = replace(result, retryable=override.retryable, retryable_rule=override.rule)
    return result
