"""Privacy: what may leave the process (masked destinations, the keyed hash, scrubbed raw text)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reporter import privacy
from reporter.engine import connect
from reporter.ingest import ingest


def test_destinations_are_masked_and_optionally_hashed(tmp_path: Path):
    path = tmp_path / "dest.csv"
    path.write_text(
        "event_time,message_id,channel,status_code,destination\n"
        "2026-11-23T10:00:00Z,m1,sms,7501,+44 7700 900123\n"
        "2026-11-23T10:00:00Z,m2,email,7501,Bob.Smith@Example.com\n"
        "2026-11-23T10:00:00Z,m3,push,7501,fcm-token-abcdef123456\n"
    )
    con = connect()
    ingest(con, [str(path)])
    public = privacy.public("SELECT * FROM events", b"secret")
    rows = con.execute(f"SELECT destination, destination_hash FROM ({public}) ORDER BY message_id").fetchall()
    assert [r[0] for r in rows] == ["+44*******123", "***@example.com", "***3456"]
    assert rows[0][1] == privacy.hmac_reference("+44 7700 900123", b"secret")
    assert con.execute(
        f"SELECT count(destination_hash) FROM ({privacy.public('SELECT * FROM events', None)})"
    ).fetchone() == (0,)


@pytest.mark.parametrize(
    ("destination", "masked"),
    [
        ("+14155550123", "+1*******123"),  # NANP: country code 1
        ("0044 7700 900123", "+44*******123"),  # 00 international prefix
        ("+91-98765-43210", "+91*******210"),
        ("+6591234567", "+65*****567"),
        ("447700900123", "*********123"),  # no + or 00: no country code is claimed
        ("x@y.io", "***@y.io"),
        ("short", "***"),
    ],
)
def test_masking_rules(destination, masked):
    con = connect()
    query = privacy.public("SELECT ?::VARCHAR AS destination", None)
    assert con.execute(f"SELECT destination FROM ({query})", [destination]).fetchone() == (masked,)


def test_public_rows_keep_their_columns_with_the_destination_masked_and_hashed_last():
    con = connect()
    query = privacy.public(
        "SELECT 'm1' AS message_id, '+14155550123' AS destination, 7500 AS status_code", b"k"
    )
    rel = con.sql(query)
    assert rel.columns == ["message_id", "status_code", "destination", "destination_hash"]
    assert rel.fetchall() == [("m1", 7500, "+1*******123", privacy.hmac_reference("+14155550123", b"k"))]


def test_a_key_longer_than_the_hash_block_is_hashed_first_as_hmac_does():
    key = b"k" * 100
    con = connect()
    query = f"SELECT {privacy.destination_hash('d', key)} FROM (SELECT ?::VARCHAR AS d)"
    (digest,) = con.execute(query, ["x"]).fetchone() or ("",)
    assert digest == privacy.hmac_reference("x", key)


def test_the_key_comes_from_the_environment_only(monkeypatch):
    monkeypatch.delenv(privacy.HMAC_KEY_ENV, raising=False)
    assert privacy.hmac_key_from_env() is None
    monkeypatch.setenv(privacy.HMAC_KEY_ENV, "s3cret")
    assert privacy.hmac_key_from_env() == b"s3cret"


def test_raw_text_keeps_only_the_last_digits_of_numbers_and_the_domain_of_emails():
    con = connect()
    raw = "2026-11-23,+44 7700 900124,josé@example.com,7501"
    (scrubbed,) = con.execute(f"SELECT {privacy.mask_raw('?')}", [raw]).fetchone() or ("",)
    assert scrubbed == "2026-11-23,***124,***@example.com,7501"
