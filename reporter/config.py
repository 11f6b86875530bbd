"""The TOML config: declared once as frozen dataclasses; unknown keys are errors.

timezone = "UTC"                 # zone of naive timestamps (default UTC)
region = "eu"                    # region when no column, partition or input sets one

[columns]                        # more spellings for canonical fields
status_code = ["result"]

[[inputs]]                       # settings for inputs whose path matches a glob
path = "logs/eu/**"
region = "eu"
timezone = "Europe/Paris"
"""

from __future__ import annotations

import fnmatch
import tomllib
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reporter.errors import ConfigError

CANONICAL_FIELDS = (
    "event_time",
    "message_id",
    "channel",
    "status_code",
    "region",
    "event_id",
    "status_description",
    "delivery_status",
    "destination",
    "sender",
    "tenant",
    "carrier",
    "callback_data",
    "correlation_id",
)


@dataclass(frozen=True)
class InputRule:
    path: str
    region: str | None = None
    timezone: str | None = None


@dataclass(frozen=True)
class Config:
    timezone: str = "UTC"
    region: str | None = None
    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    inputs: tuple[InputRule, ...] = ()
    source: str | None = None

    def for_path(self, path: Path) -> tuple[str | None, str]:
        """([[inputs]] region or None, timezone) for one input file: the last matching entry wins."""
        region, tz = None, self.timezone
        for rule in self.inputs:
            if fnmatch.fnmatch(str(path), rule.path) or fnmatch.fnmatch(path.as_posix(), rule.path):
                region = rule.region or region
                tz = rule.timezone or tz
        return region, tz


def _check_keys(raw: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r}")


def _check_zone(name: str, where: str) -> str:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"{where}: unknown time zone {name!r}") from exc
    return name


def load_config(path: Path | None) -> Config:
    """The config at `path`, or the defaults when there is none."""
    if path is None:
        return Config()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    _check_keys(raw, {"timezone", "region", "columns", "inputs"}, str(path))
    columns = raw.get("columns", {})
    _check_keys(columns, set(CANONICAL_FIELDS), f"{path}: [columns]")
    inputs = []
    for i, entry in enumerate(raw.get("inputs", []), 1):
        where = f"{path}: [[inputs]] #{i}"
        _check_keys(entry, {"path", "region", "timezone"}, where)
        if "path" not in entry:
            raise ConfigError(f"{where}: missing 'path'")
        if "timezone" in entry:
            _check_zone(entry["timezone"], where)
        inputs.append(InputRule(**entry))
    return Config(
        timezone=_check_zone(raw.get("timezone", "UTC"), str(path)),
        region=raw.get("region"),
        columns={k: tuple(v if isinstance(v, list) else [v]) for k, v in columns.items()},
        inputs=tuple(inputs),
        source=str(path),
    )
