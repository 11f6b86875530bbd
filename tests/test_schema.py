"""The canonical event schema: declared once in reporter/schema.py, derived everywhere else."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from reporter import schema, vocabulary
from reporter.config import load_config
from reporter.ingest import EVENT_COLUMNS, mapping
from tests.conftest import ROOT

_NAME = "|".join(schema.NAMES)
# One item of a field list: `"sender"`, `m.sender`, `sender VARCHAR`.
_ITEM = rf"""['"]?(?:\b\w+\.)?\b(?:{_NAME})\b['"]?(?:\s+[A-Z]+)?"""
_LIST = re.compile(rf"{_ITEM}(?:\s*,\s*{_ITEM}){{2,}}")
_QUOTED = re.compile(r"""['"]([A-Za-z_]+)['"]""")


def _sources() -> list[Path]:
    """reporter's code and SQL, but the schema itself and the generator (which writes vendor-like
    inputs in spellings of its own choosing, as a vendor would)."""
    files = [*ROOT.joinpath("reporter").rglob("*.py"), *ROOT.joinpath("reporter").rglob("*.sql")]
    files += list(ROOT.joinpath("queries").glob("*.sql"))
    return [p for p in files if p.name != "schema.py" and "generate" not in p.relative_to(ROOT).parts]


def hand_kept_copies(path: Path, text: str) -> list[str]:
    """What in `text` looks like a copy of the schema: a list of three or more fields of which two
    or more are kept-as-written fields (grouping keys such as `channel, region, status_code` are
    not copies), several alias spellings, or a webhook path."""
    found = []
    for match in _LIST.finditer(text):
        names = set(re.findall(rf"\b(?:{_NAME})\b", match[0]))
        if len(names & set(schema.AS_WRITTEN)) >= 2:
            found.append(f"{path.name}: field list {' '.join(match[0].split())}")
    fields = {mapping.normalise(n) for n in schema.NAMES}
    aliases = {mapping.normalise(a) for f in schema.FIELDS for a in f.aliases} - fields
    spelled = {mapping.normalise(q) for q in _QUOTED.findall(text)} & aliases
    if len(spelled) >= 4:
        found.append(f"{path.name}: alias spellings {sorted(spelled)}")
    if "deliveryInfo." in text:
        found.append(f"{path.name}: a webhook path")
    return found


def test_no_hand_kept_copy_of_the_schema_remains():
    copies = [c for p in _sources() for c in hand_kept_copies(p, p.read_text(encoding="utf-8"))]
    assert copies == []


def test_the_copy_check_catches_the_old_copies():
    """The lists this module replaced, as they were written, are each caught."""
    old = {
        "config.py": 'CANONICAL_FIELDS = (\n    "event_time",\n    "message_id",\n    "destination",\n'
        '    "sender",\n    "tenant",\n)',
        "pipeline.py": '"delivery_status VARCHAR, destination VARCHAR, sender VARCHAR, "',
        "mapping.py": 'ALIASES = {"message_id": ("messageid", "transid"), '
        '"event_id": ("eventid", "subtid"),\n"destination": ("destination", "msisdn", "recipient")}',
        "messages.sql": "struct_pack(message_id, channel, region, status_code, destination, sender)",
        "message_rows.sql": "d.country AS destination_country,\n    m.sender,\n    m.tenant,\n    m.carrier,",
        "json_reader.py": '"event_time": f"{_DIN}.deliveryInfo.timeStamp",',
    }
    for name, text in old.items():
        assert hand_kept_copies(Path(name), text), name


def test_events_table_and_config_keys_come_from_the_schema(tmp_path):
    con = duckdb.connect()
    con.execute(f"CREATE TABLE e ({schema.events_columns()})")
    described = [(r[0], r[1]) for r in con.execute("DESCRIBE e").fetchall()]
    assert described == [
        ("event_time", "TIMESTAMP WITH TIME ZONE"),
        ("message_id", "VARCHAR"),
        ("channel", "VARCHAR"),
        ("status_code", "BIGINT"),
        ("region", "VARCHAR"),
        *[(n, "VARCHAR") for n in schema.AS_WRITTEN],
    ]
    assert EVENT_COLUMNS == schema.NAMES
    config = tmp_path / "c.toml"
    config.write_text('[columns]\ncarrier = ["network"]\n', encoding="utf-8")
    assert load_config(config).columns == {"carrier": ("network",)}


def test_aliases_resolve_in_the_schema_order():
    # `time` comes before `ts` in event_time's aliases; `msisdn` is a destination alias.
    resolved = mapping.resolve_columns(["TS", "Time", "MSISDN", "statusCode", "transId"], {})
    assert resolved == {
        "event_time": "Time",
        "message_id": "transId",
        "status_code": "statusCode",
        "destination": "MSISDN",
    }


def test_message_fields_render_as_columns():
    sql = vocabulary.render("SELECT {{ message_details(m.) }} FROM t AS m")
    # A field added with message=True comes after these (the messages extract's column order).
    assert sql.startswith("SELECT m.destination, m.sender, m.tenant, m.carrier")
    assert sql.endswith(" FROM t AS m")
