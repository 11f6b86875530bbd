"""The TOML config: declared once as frozen dataclasses; unknown keys are errors.

timezone = "UTC"                 # zone of naive timestamps (default UTC)
region = "eu"                    # region when no column, partition or input sets one

[columns]                        # more spellings for canonical fields
status_code = ["result"]

[[inputs]]                       # settings for inputs whose path matches a glob
path = "logs/eu/**"
region = "eu"
timezone = "Europe/Paris"

[delivery]
receipt_timeout_minutes = 60     # still submitted/queued this long before the input's last event: no receipt

[regions]                        # how the report names regions (built-in: us, ca, eu, uk, in, sg, au)
in = "India"

[smtp]                           # `reporter email`; the password comes from REPORTER_SMTP_PASSWORD only
host = "smtp.example.com"
sender = "Reports <reports@example.com>"
"""

from __future__ import annotations

import fnmatch
import re
import tomllib
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reporter.alerts import AlertRule, load_rules
from reporter.engine import memory_limit
from reporter.errors import ConfigError
from reporter.schema import NAMES


@dataclass(frozen=True)
class InputRule:
    path: str
    region: str | None = None
    timezone: str | None = None


SMTP_SECURITY = ("starttls", "ssl", "none")


@dataclass(frozen=True)
class SmtpConfig:
    """The [smtp] section; host and sender are checked when a message is built or sent, not here."""

    host: str | None = None
    port: int = 587
    user: str | None = None
    sender: str | None = None
    security: str = "starttls"
    allow_plaintext: bool = False
    cafile: str | None = None  # a private CA to trust as well, resolved against the config's folder


@dataclass(frozen=True)
class NightlyConfig:
    """`[nightly]`: what `reporter nightly` reads and where it publishes."""

    inputs: tuple[str, ...] = ()  # path templates with {date} (YYYY-MM-DD) and globs
    reports: Path = Path("reports")
    email_to: tuple[str, ...] = ()
    email_cc: tuple[str, ...] = ()
    quarantine_max_share: float | None = None  # above it the run exits 65


TOP_LEVEL_KEYS = (
    "timezone", "region", "columns", "inputs", "smtp", "nightly", "alerts", "memory_limit",
    "delivery", "regions", "engine",
)  # fmt: skip
# How the report names the usual hosting regions; `[regions]` in the config adds or overrides labels.
DEFAULT_REGION_LABELS: dict[str, str] = {
    "us": "United States", "ca": "Canada", "eu": "Europe", "uk": "United Kingdom",
    "in": "India", "sg": "Singapore", "au": "Australia",
}  # fmt: skip


@dataclass(frozen=True)
class DeliveryConfig:
    """`[delivery]`: how delivery receipts are judged."""

    # A message still submitted or queued whose first event is older than this, counted back from
    # the latest event of the input, has no final receipt (SMS receipts mostly come within minutes).
    receipt_timeout_minutes: int = 60


ENGINES = ("duckdb", "spark")


@dataclass(frozen=True)
class EngineConfig:
    """`[engine]`: which engine runs the heavy part of `reporter run` (DuckDB unless set)."""

    name: str = "duckdb"
    master: str | None = None  # Spark's master URL; None: spark-submit's, else local[2]
    conf: dict[str, str] = field(default_factory=dict)  # extra Spark conf, e.g. spark.executor.memory


@dataclass(frozen=True)
class Config:
    timezone: str = "UTC"
    region: str | None = None
    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    inputs: tuple[InputRule, ...] = ()
    smtp: SmtpConfig = field(default_factory=SmtpConfig)
    nightly: NightlyConfig = field(default_factory=NightlyConfig)
    alerts: tuple[AlertRule, ...] = ()
    engine: EngineConfig = field(default_factory=EngineConfig)
    memory_limit: str | None = None  # DuckDB's limit, "4GB" or "25%" of RAM; default half; spills past it
    delivery: DeliveryConfig = field(default_factory=DeliveryConfig)
    regions: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_REGION_LABELS))  # key -> label
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


def _check_memory_limit(value: Any, where: str) -> str | None:
    if value is None:
        return None
    try:
        memory_limit(str(value))
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from exc
    return str(value)


def _check_zone(name: str, where: str) -> str:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"{where}: unknown time zone {name!r}") from exc
    return name


def _load_smtp(raw: Any, path: Path) -> SmtpConfig:
    where = f"{path}: [smtp]"
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: 'smtp' must be a table ([smtp])")
    if "password" in raw:
        raise ConfigError(f"{where}: 'password' is never read from a file: set REPORTER_SMTP_PASSWORD")
    types = {"host": str, "port": int, "user": str, "sender": str, "security": str, "allow_plaintext": bool}
    _check_keys(raw, {*types, "cafile"}, where)
    for key, value in raw.items():
        expected = types.get(key, str)
        # bool is an int in Python: `port = true` must not pass as port 1.
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            kind = {str: "a string", int: "an integer", bool: "true or false"}[expected]
            raise ConfigError(f"{where}: {key!r} must be {kind}, not {value!r}")
    security = raw.get("security", "starttls")
    if security not in SMTP_SECURITY:
        raise ConfigError(f"{where}: security must be one of {', '.join(SMTP_SECURITY)}, not {security!r}")
    if security == "none" and not raw.get("allow_plaintext", False):
        # Nothing travels unencrypted unless allow_plaintext says so, whatever `security` picks.
        raise ConfigError(f"{where}: security = 'none' sends in clear: also set allow_plaintext = true")
    port = raw.get("port", 465 if security == "ssl" else 587)
    if not 0 < port < 65536:
        raise ConfigError(f"{where}: port {port} is out of range")
    cafile = raw.get("cafile")
    return SmtpConfig(
        host=raw.get("host"),
        port=port,
        user=raw.get("user"),
        sender=raw.get("sender"),
        security=security,
        allow_plaintext=raw.get("allow_plaintext", False),
        cafile=str(path.parent / Path(cafile).expanduser()) if cafile else None,
    )


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
    _check_keys(raw, set(TOP_LEVEL_KEYS), str(path))
    columns = raw.get("columns", {})
    _check_keys(columns, set(NAMES), f"{path}: [columns]")
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
        smtp=_load_smtp(raw.get("smtp", {}), path),
        nightly=_load_nightly(raw.get("nightly", {}), path),
        alerts=load_rules(raw.get("alerts", []), str(path)),
        engine=_load_engine(raw.get("engine", {}), path),
        memory_limit=_check_memory_limit(raw.get("memory_limit"), str(path)),
        delivery=_load_delivery(raw.get("delivery", {}), path),
        regions={**DEFAULT_REGION_LABELS, **_load_regions(raw.get("regions", {}), path)},
        source=str(path),
    )


def _load_engine(raw: Any, path: Path) -> EngineConfig:
    where = f"{path}: [engine]"
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: 'engine' must be a table ([engine])")
    _check_keys(raw, {"name", "master", "conf"}, where)
    name = raw.get("name", "duckdb")
    if name not in ENGINES:
        raise ConfigError(f"{where}: name must be one of {', '.join(ENGINES)}, not {name!r}")
    master, conf = raw.get("master"), raw.get("conf", {})
    if master is not None and not isinstance(master, str):
        raise ConfigError(f"{where}: 'master' must be a string")
    if not isinstance(conf, dict) or not all(isinstance(v, str | int | float | bool) for v in conf.values()):
        raise ConfigError(f"{where}: 'conf' must be a table of Spark settings ([engine.conf])")
    return EngineConfig(
        name, master, {str(k): str(v).lower() if isinstance(v, bool) else str(v) for k, v in conf.items()}
    )


def _load_nightly(raw: dict[str, Any], path: Path) -> NightlyConfig:
    where = f"{path}: [nightly]"
    _check_keys(raw, {"inputs", "reports", "email_to", "email_cc", "quarantine_max_share"}, where)
    lists = {}
    for key in ("inputs", "email_to", "email_cc"):
        value = raw.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where}: {key!r} must be a list of strings")
        lists[key] = tuple(value)
    share = raw.get("quarantine_max_share")
    if share is not None and not (isinstance(share, int | float) and 0 <= share <= 1):
        raise ConfigError(f"{where}: 'quarantine_max_share' must be a number from 0 to 1")
    # Relative paths are relative to the config file, so cron's working directory does not matter.
    base = path.resolve().parent
    inputs = tuple(t if Path(t).is_absolute() else str(base / t) for t in lists["inputs"])
    reports = Path(raw.get("reports", "reports"))
    return NightlyConfig(
        inputs=inputs,
        reports=reports if reports.is_absolute() else base / reports,
        email_to=lists["email_to"],
        email_cc=lists["email_cc"],
        quarantine_max_share=None if share is None else float(share),
    )


def _load_delivery(raw: Any, path: Path) -> DeliveryConfig:
    where = f"{path}: [delivery]"
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: 'delivery' must be a table ([delivery])")
    _check_keys(raw, {"receipt_timeout_minutes"}, where)
    minutes = raw.get("receipt_timeout_minutes", DeliveryConfig.receipt_timeout_minutes)
    if not isinstance(minutes, int) or isinstance(minutes, bool) or minutes < 0:
        raise ConfigError(f"{where}: 'receipt_timeout_minutes' must be a whole number of minutes >= 0")
    return DeliveryConfig(receipt_timeout_minutes=minutes)


def _load_regions(raw: Any, path: Path) -> dict[str, str]:
    """`[regions]`: region key (lower case, as the logs spell it after ingest) -> non-empty label."""
    where = f"{path}: [regions]"
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: 'regions' must be a table ([regions])")
    for key, label in raw.items():
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", key):
            raise ConfigError(f"{where}: {key!r} is not a region key (lower case letters, digits, - and _)")
        if not isinstance(label, str) or not label.strip():
            raise ConfigError(f"{where}: the label of {key!r} must be non-empty text")
    return {key: label.strip() for key, label in raw.items()}
