"""Outcomes: final status per message and the breakdowns, against figures worked out by hand."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from reporter.codes import build_dimension
from reporter.engine import connect
from reporter.extracts import register_inputs
from reporter.ingest import ingest
from reporter.outcomes import build_outcomes
from reporter.queries import load_queries, run_query

# Each message exercises one lifecycle case; the comment says what its final status must be.
LOG = """event_time,message_id,channel,status_code,region,destination
2026-11-23T10:00:05Z,m1,sms,7500,eu,+447700900001
2026-11-23T10:00:10Z,m1,sms,7501,eu,+447700900001
2026-11-23T10:00:00Z,m2,sms,7501,eu,+447700900002
2026-11-23T10:01:00Z,m2,sms,7203,eu,+447700900002
2026-11-23T10:05:00Z,m2,sms,7501,eu,+447700900002
2026-11-23T10:06:00Z,m2,sms,7500,eu,+447700900002
2026-11-23T10:00:00Z,m3,WhatsApp,7501,uk,+447700900003
2026-11-23T10:01:00Z,m3,WhatsApp,7500,uk,+447700900003
2026-11-23T10:02:00Z,m3,WhatsApp,7502,uk,+447700900003
2026-11-23T10:00:00Z,m4,whatsapp,7501,uk,+447700900004
2026-11-23T10:01:00Z,m4,whatsapp,7999,uk,+447700900004
2026-11-23T11:00:00Z,,sms,7203,eu,+33612345678
2026-11-23T11:00:00Z,,sms,7500,eu,+33612345679
2026-11-23T10:00:00Z,m5,sms,7501,eu,+4915112345678
2026-11-23T10:01:00Z,m5,sms,7111,eu,+4915112345678
2026-11-23T10:00:00Z,m6,whatsapp,7501,uk,+447700900006
2026-11-23T10:00:30Z,m6,whatsapp,7001,uk,+447700900006
2026-11-24T09:00:00Z,m7,twitter,7501,us,
2026-11-24T09:00:00Z,m8,sms,7501,us,+14155550108
2026-11-24T09:01:00Z,m8,sms,7203,us,+14155550108
2026-11-24T09:01:00Z,m8,sms,7208,us,+14155550108
"""
# m1 out of order -> delivered; m2 retry delivered after a failure -> delivered; m3 read after
# delivered -> read; m4 unknown code after submitted -> submitted; two events without an id -> two
# messages (undelivered, delivered); m5 US/Canada-only 7111 in eu -> undelivered, out of region;
# m6 7001 only in the common table -> failed (auth); m7 twitter -> submitted, unsupported channel;
# m8 two failures at the same time -> the higher code, 7208 (expired).


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    path = tmp_path_factory.mktemp("outcomes") / "log.csv"
    path.write_text(LOG)
    con = connect()
    result = ingest(con, [str(path)])
    register_inputs(con, result)  # data_quality reads it
    build_outcomes(con, result, build_dimension())
    return con


def query(con, name, **params):
    q = load_queries()[name]
    values = {k: params.get(k) for k in q.params}
    return run_query(con, q, values).rows()


def test_final_status_of_every_message(con):
    rows = con.execute(
        "SELECT coalesce(message_id, 'no id ' || status_code), status_class, status_code, code_source "
        "FROM messages ORDER BY 1"
    ).fetchall()
    assert rows == [
        ("m1", "delivered", 7500, "channel"),
        ("m2", "delivered", 7500, "channel"),
        ("m3", "read", 7502, "channel"),
        ("m4", "submitted", 7501, "channel"),
        ("m5", "undelivered", 7111, "channel"),
        ("m6", "failed", 7001, "common"),
        ("m7", "submitted", 7501, "channel"),
        ("m8", "undelivered", 7208, "channel"),
        ("no id 7203", "undelivered", 7203, "channel"),
        ("no id 7500", "delivered", 7500, "channel"),
    ]


def test_message_details(con):
    m8 = con.execute(
        "SELECT events, failure_category, retryable, is_failure, destination_country FROM messages "
        "WHERE message_id = 'm8'"
    ).fetchall()
    assert m8 == [(3, "expired", True, True, "US")]
    m6 = con.execute("SELECT failure_category, retryable FROM messages WHERE message_id = 'm6'").fetchall()
    assert m6 == [("auth", False)]
    flags = con.execute(
        "SELECT message_id, out_of_region, unsupported_channel, has_unknown_code FROM messages "
        "WHERE out_of_region OR unsupported_channel OR has_unknown_code ORDER BY message_id"
    ).fetchall()
    assert flags == [("m4", False, False, True), ("m5", True, False, False), ("m7", False, True, False)]
    keys = con.execute("SELECT message_key FROM messages WHERE message_id IS NULL").fetchall()
    assert len(keys) == 2 and all(k.startswith("event:") for (k,) in keys)


def test_every_cell_of_by_channel_region_class(con):
    assert query(con, "by_channel_region_class") == [
        ("sms", "eu", "delivered", 3, 3),
        ("sms", "eu", "submitted", 0, 4),
        ("sms", "eu", "undelivered", 2, 3),
        ("sms", "us", "submitted", 0, 1),
        ("sms", "us", "undelivered", 1, 2),
        ("twitter", "us", "submitted", 1, 1),
        ("whatsapp", "uk", "delivered", 0, 1),
        ("whatsapp", "uk", "failed", 1, 1),
        ("whatsapp", "uk", "read", 1, 1),
        ("whatsapp", "uk", "submitted", 1, 3),
        ("whatsapp", "uk", "unknown", 0, 1),
    ]


def test_period_parameters_narrow_the_breakdown(con):
    # Only m7 and m8 start on 2026-11-24; their events are on that day too.
    assert query(con, "by_channel_region_class", start="2026-11-24") == [
        ("sms", "us", "submitted", 0, 1),
        ("sms", "us", "undelivered", 1, 2),
        ("twitter", "us", "submitted", 1, 1),
    ]


def test_failure_rate_and_categories(con):
    assert query(con, "channel_failure_rate") == [
        ("sms", 6, 3, 3, 0.5),
        ("whatsapp", 3, 1, 1, 0.3333),
        ("twitter", 1, 0, 0, 0.0),
    ]
    # Four failures, one per category; ties are ordered by category name.
    assert query(con, "by_failure_category") == [
        ("auth", 1, False, 0.25),  # m6 7001
        ("content", 1, False, 0.25),  # m5 7111 Spam content detected
        ("expired", 1, True, 0.25),  # m8 7208
        ("recipient", 1, False, 0.25),  # the id-less 7203
    ]


def test_data_quality_findings(con):
    findings = {(f, d): n for f, d, n in query(con, "data_quality")}
    assert findings == {
        ("duplicate events", None): 0,
        ("unknown code events", None): 1,
        ("out-of-region code events", None): 1,
        ("unsupported channel events", None): 1,
    }
    assert query(con, "unknown_codes") == [("whatsapp", 7999, 1)]
    assert query(con, "region_scope_violations") == [("sms", "eu", 7111, 1)]


def test_top_failures_and_countries(con):
    assert query(con, "top_failures", limit="1") == [
        ("sms", 7111, "Spam content detected", "content", False, 1, 0.1667),
        ("whatsapp", 7001, "Authentication failed", "auth", False, 1, 0.3333),
    ]
    countries = query(con, "destination_countries")
    assert ("sms", "GB", 2, 0, 0.0) in countries  # m1, m2
    assert ("sms", "FR", 2, 1, 0.5) in countries  # the two id-less messages
    assert ("sms", "DE", 1, 1, 1.0) in countries  # m5
    assert ("sms", "US", 1, 1, 1.0) in countries  # m8
    assert ("whatsapp", "GB", 3, 1, 0.3333) in countries


def test_events_are_conserved(con):
    (events,) = con.execute("SELECT count(*) FROM events").fetchall()[0]
    assert events == len(LOG.strip().splitlines()) - 1
    assert con.execute("SELECT sum(events) FROM messages").fetchall()[0][0] == events
    assert con.execute("SELECT sum(events) FROM event_counts").fetchall()[0][0] == events


@pytest.mark.parametrize("key", [b"secret", b"k" * 100])  # a key longer than a block is hashed first
def test_destination_hash_is_hmac_sha256_of_the_final_destination(tmp_path, key):
    path = tmp_path / "log.csv"
    path.write_text(LOG)
    keyed = connect()
    build_outcomes(keyed, ingest(keyed, [str(path)]), build_dimension(), key)
    rows = keyed.execute(
        "SELECT message_id, destination_hash FROM messages WHERE message_id IN ('m1', 'm7') ORDER BY 1"
    ).fetchall()
    expected = hmac.new(key, b"+447700900001", hashlib.sha256).hexdigest()
    assert rows == [("m1", expected), ("m7", None)]  # m7 (twitter) has no destination
