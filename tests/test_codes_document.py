"""The parser: every table, every row, and each quirk of the vendor's document."""

from __future__ import annotations

import pytest

from reporter.codes.document import parse_document, vendored_document
from reporter.errors import DocumentError

# Counted by hand from the document: (first data line, last data line) of each table.
TABLE_LINES = {
    "Common Error Codes across Channels": (5, 16),
    "SMS": (20, 37),
    "SMS us+ca": (41, 51),
    "Voice": (55, 71),
    "Push": (75, 108),
    "In-App Messaging and Live Chat": (112, 139),
    "Email": (143, 155),
    "Messenger": (159, 171),
    "Google Business Messages": (175, 195),
    "Instagram": (199, 214),
    "Twitter DM (Currently not supported)": (218, 227),
    "Apple Messages for Business": (231, 249),
    "WeChat": (253, 302),
    "WhatsApp": (307, 323),
    "RCS": (327, 351),
    "MMS": (355, 418),
}


@pytest.fixture(scope="module")
def tables():
    return parse_document(vendored_document())


def _row(dimension, channel, code, line=None):
    rows = dimension.rows.filter(
        (dimension.rows["channel"] == channel) & (dimension.rows["code"] == code)
    ).to_dicts()
    if line is not None:
        rows = [r for r in rows if r["source_line"] == line]
    assert len(rows) == 1, rows
    return rows[0]


def test_sixteen_tables_with_the_documented_row_counts(tables):
    assert len(tables) == 16
    counted = {}
    for t in tables:
        name = "SMS us+ca" if t.section.region_scope == "us+ca" else t.heading
        counted[name] = (t.rows[0].source_line, t.rows[-1].source_line, len(t.rows))
    expected = {name: (a, b, b - a + 1) for name, (a, b) in TABLE_LINES.items()}
    assert counted == expected
    assert sum(len(t.rows) for t in tables) == 368


def test_every_documented_row_keeps_its_source_line(dimension, document_lines):
    for row in dimension.rows.iter_rows(named=True):
        line = document_lines[row["source_line"] - 1]
        assert line.startswith(f"{row['code']} |"), (row, line)


def test_quirk_row_missing_trailing_cells(dimension):
    # Push has a Description column; line 108 "7551 | System internal error |" stops early.
    row = _row(dimension, "push", 7551)
    assert (row["message"], row["description"], row["source_line"]) == ("System internal error", None, 108)


def test_quirk_same_code_twice_in_a_channel_with_contexts(dimension):
    generic = _row(dimension, "inapp", 7003, line=129)
    quick = _row(dimension, "inapp", 7003, line=136)
    assert generic["context"] == "Generic Template"
    assert quick["context"] == "Quick Replies"
    assert generic["message"] == quick["message"] == "param 'mediaid' or type based attachment is required"
    # 7000 is also documented without context (line 115): that row is the join row.
    plain = _row(dimension, "inapp", 7000, line=115)
    assert plain["context"] is None and plain["is_join_row"]
    assert not _row(dimension, "inapp", 7000, line=128)["is_join_row"]


def test_quirk_one_off_parenthetical_is_part_of_the_message(dimension):
    row = _row(dimension, "instagram", 7304)
    assert (row["message"], row["context"]) == ("Invalid app credentials(Invalid OAuth)", None)


def test_quirk_apple_second_table_runs_on(dimension, tables):
    apple = next(t for t in tables if t.section.channel == "apple")
    assert [r.code for r in apple.rows[10:]] == [1001, 7000, 7001, 7002, 7003, 7004, 7007, 7009, 7722]
    queued = _row(dimension, "apple", 1001)
    assert (queued["message"], queued["status_class"], queued["source_line"]) == ("Queued", "queued", 241)
    assert _row(dimension, "apple", 7000, line=231)["is_join_row"]
    assert not _row(dimension, "apple", 7000, line=242)["is_join_row"]


@pytest.mark.parametrize(
    ("channel", "code", "line", "message"),
    [
        ("apple", 1001, 241, "Queued"),
        (
            "messenger",
            2018336,
            170,
            "The action is not submitted due to new privacy rules in Europe. "
            "See developer documentation for more information.",
        ),
        (
            "messenger",
            2018047,
            171,
            "The action is not submitted due to new privacy rules in Europe. "
            "See developer documentation for more information.",
        ),
        ("voice", 8009, 64, "The profile doesn’t exist for this tenant"),
    ],
)
def test_quirk_codes_outside_7xxx(dimension, channel, code, line, message):
    row = _row(dimension, channel, code)
    assert (row["source_line"], row["message"]) == (line, message)


def test_quirk_footnote_debris_is_removed_and_noted(dimension):
    row = _row(dimension, "messenger", 2018336)
    assert row["message"].endswith("for more information.")
    assert row["notes"] == "footnote marker '98' removed from message"
    assert _row(dimension, "messenger", 2018047)["notes"] is None


def test_quirk_email_placeholder_is_kept_verbatim(dimension):
    row = _row(dimension, "email", 7523)
    assert "The email ID should be in the format: [email protected] where “abc”" in row["description"]


@pytest.mark.parametrize(
    ("channel", "code", "message"),
    [
        ("voice", 7003, "Dynamic Format - “Mandatory parameter missing: {{parameter}}”"),
        ("mms", 7230, "Text more than X characters"),
        ("mms", 7217, "XML Parse error: $error"),
    ],
)
def test_quirk_placeholders_are_kept_verbatim(dimension, channel, code, message):
    assert _row(dimension, channel, code)["message"] == message


def test_quirk_curly_quotes_survive(dimension):
    assert _row(dimension, "mms", 7263)["message"] == "The ‘operator id’ is required"


def test_quirk_meesage_typo_header(tables):
    assert tables[0].columns == ("code", "message")
    assert tables[0].rows[0].message == "Invalid JSON"


def test_quirk_whatsapp_header_after_a_sentence(tables):
    whatsapp = next(t for t in tables if t.section.channel == "whatsapp")
    assert whatsapp.columns == ("code", "message", "description")
    assert (whatsapp.rows[0].code, whatsapp.rows[0].source_line) == (7500, 307)


def test_quirk_us_canada_table_is_sms_with_its_own_scope(dimension):
    assert _row(dimension, "sms", 7111)["region_scope"] == "us+ca"
    assert _row(dimension, "sms", 7203)["region_scope"] == "all"


def test_quirk_twitter_is_documented_but_not_supported(dimension):
    twitter = dimension.codes.filter(dimension.codes["channel"] == "twitter")
    assert twitter.height == 10
    assert not twitter["supported"].any()
    assert set(twitter["supported_rule"]) == {"heading says (Currently not supported)"}
    assert dimension.codes.filter(dimension.codes["channel"] != "twitter")["supported"].all()


def _damaged(lines: list[str], lineno: int, replacement: str | None) -> str:
    copy = list(lines)
    if replacement is None:
        del copy[lineno - 1]
    else:
        copy[lineno - 1] = replacement
    return "\n".join(copy)


@pytest.mark.parametrize(
    ("lineno", "replacement", "message"),
    [
        (
            19,
            "7500 | Delivered |",
            "status-codes.txt:19: expected a '---|---|' separator under the header row",
        ),
        (30, "oops, a stray sentence", "status-codes.txt:30: expected a table row '<digits> | message |'"),
        (52, "Carrier Pigeon", "status-codes.txt:52: expected a table row '<digits> | message |'"),
        (53, "Kode | Message |", "status-codes.txt:53: expected a header row starting with 'Code'"),
        (55, "7000 | Invalid JSON | extra | cells |", "status-codes.txt:55: expected at most 2 cells"),
        (73, "---|---|---|", "status-codes.txt:73: expected a header row starting with 'Code'"),
    ],
)
def test_a_damaged_document_fails_naming_the_line(document_lines, lineno, replacement, message):
    with pytest.raises(DocumentError) as excinfo:
        parse_document(_damaged(document_lines, lineno, replacement))
    assert str(excinfo.value).startswith(message)
    assert "\n" not in str(excinfo.value)


def test_a_heading_without_a_table_fails(document_lines):
    text = "\n".join([*document_lines, "Carrier Pigeon"])
    with pytest.raises(DocumentError, match=r"status-codes.txt:419: expected a table row"):
        parse_document(text)
