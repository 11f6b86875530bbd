"""Synthetic delivery-event logs shaped like real exports, for tests, demos and benchmarks.

Every value is a pure function of (seed, message or event index): a counter-based hash
(splitmix64, in Polars expressions) instead of a stateful generator, so the events do not depend
on the chunk size (only the time-ordering is per chunk) and the same arguments give the same bytes.
Codes come from the code dimension, so the data follows the vendor's document.
"""

from __future__ import annotations

import calendar
import contextlib
import datetime as dt
import functools
import itertools
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from reporter.codes import CHANNEL_KEYS, build_dimension
from reporter.errors import UsageError
from reporter.fsio import atomic_path

FORMATS = ("csv", "ndjson", "json", "parquet", "webhook")
_EXTENSION = {"csv": "csv", "ndjson": "ndjson", "json": "json", "parquet": "parquet", "webhook": "ndjson"}
# About 250,000 events per chunk keeps memory near 0.5 GB whatever `events` is.
CHUNK_MESSAGES = 120_000

CHANNEL_WEIGHTS: dict[str, float] = {
    "sms": 34, "whatsapp": 20, "email": 17, "push": 12, "voice": 5, "inapp": 2.5, "rcs": 2, "mms": 2,
    "messenger": 1.5, "instagram": 1.2, "apple": 1, "gbm": 0.8, "wechat": 0.8, "twitter": 0.1,
}  # fmt: skip
REGION_WEIGHTS: dict[str, float] = {"us": 35, "eu": 20, "in": 13, "uk": 12, "au": 8, "ca": 6, "sg": 6}
_CHANNELS, _REGIONS = tuple(CHANNEL_WEIGHTS), tuple(REGION_WEIGHTS)
US_CA_REGIONS = ("us", "ca")
UNDOCUMENTED_CODE = 7999
_PHONE_CHANNELS = ("sms", "mms", "whatsapp", "voice", "rcs")
_CARRIER_CHANNELS = ("sms", "mms", "voice", "rcs")

# (weight, steps); "delivered" and "failure" are resolved per channel and message.
_LIFECYCLES: tuple[tuple[float, tuple[str, ...]], ...] = (
    (0.60, ("submitted", "delivered")),
    (0.16, ("submitted", "delivered", "read")),  # read only where the channel documents 7502
    (0.13, ("submitted", "failure")),
    (0.03, ("submitted", "failure", "resubmitted", "delivered")),  # a retryable failure, resent
    (0.05, ("submitted",)),  # still in flight when the log was cut
    (0.02, ("submitted", "unknown_status")),
    (0.01, ("submitted", "undocumented")),
    (0.0, ("queued", "submitted", "delivered")),  # Apple only, chosen in _messages
    (0.0, ("queued", "submitted", "failure")),
)
_DELIVERED, _READ, _FAILED, _RETRY, _QUEUED_DELIVERED, _QUEUED_FAILED = 0, 1, 2, 3, 7, 8
# step: (code, or None when resolved per message; seconds after the previous step, unless first: low, high).
# 7501 and 7500 go out on every channel, as the platform sends them, even where the channel's table does not
# list them (MMS; Voice 7501; Apple, WeChat, Twitter 7500): such events classify as unknown, as real ones do.
_STEPS: dict[str, tuple[int | None, float, float]] = {
    "queued": (1001, 0, 0), "submitted": (7501, 1, 30), "resubmitted": (7501, 60, 900),
    "delivered": (None, 1, 120), "read": (7502, 30, 7200), "failure": (None, 1, 600),
    "unknown_status": (7200, 60, 3600), "undocumented": (UNDOCUMENTED_CODE, 5, 300),
}  # fmt: skip

# Per region: number ranges ('#' = a random digit; us/ca use 555 numbers), each with its carrier.
_PHONE_RANGES = {
    "us": "+1415555#### Verizon|+1212555#### AT&T|+1312555#### T-Mobile|+1512555#### AT&T",
    "ca": "+1416555#### Rogers|+1604555#### Telus|+1514555#### Bell|+1403555#### Telus",
    "uk": "+447700###### EE|+447700###### O2|+447911###### Vodafone UK|+447400###### Three",
    "eu": "+336######## Orange|+4917######## Deutsche Telekom|+346######## Movistar|+336######## SFR",
    "in": "+919######### Jio|+918######### Airtel|+917######### Vi|+919######### Airtel",
    "sg": "+659####### Singtel|+658####### StarHub|+659####### M1|+658####### Singtel",
    "au": "+614######## Telstra|+614######## Optus|+614######## Vodafone AU|+614######## Telstra",
}
_RANGES = {r: [entry.split(" ", 1) for entry in text.split("|")] for r, text in _PHONE_RANGES.items()}
_PREFIXES = {r: tuple(t.rstrip("#") for t, _ in rows) for r, rows in _RANGES.items()}
_WIDTHS = {r: tuple(t.count("#") for t, _ in rows) for r, rows in _RANGES.items()}
_CARRIERS = {r: tuple(c for _, c in rows) for r, rows in _RANGES.items()}
_SENDERS = {
    "sms": "ACME|24273", "mms": "24273|80888", "whatsapp": "+14155550100|+447700900100",
    "voice": "+18005550199|+442071838750", "rcs": "acme_rbm_agent|acme_rbm_agent",
    "email": "noreply@acme.example.com|alerts@acme.example.com", "push": "com.acme.mobile|com.acme.wallet",
    "inapp": "com.acme.mobile|acme-web-chat", "messenger": "104857600123456|104857600123456",
    "instagram": "17841400000000001|17841400000000001", "gbm": "acme-agent|acme-agent",
    "apple": "acme-business-chat|acme-business-chat", "wechat": "gh_acme0001|gh_acme0001",
    "twitter": "@acme|@acme",
}  # fmt: skip
# Four equally likely spellings per channel; repeating the key makes it the usual one.
_SPELLINGS = {
    "sms": "sms|sms|SMS|Sms", "whatsapp": "whatsapp|whatsapp|WhatsApp|WHATSAPP",
    "email": "email|Email|EMAIL|e-mail", "push": "push|push|Push|PUSH", "voice": "voice|voice|voice|Voice",
    "inapp": "inapp|inapp|In-App|in-app",
    "messenger": "messenger|messenger|Messenger|facebook", "gbm": "gbm|gbm|gbm|GBM",
    "instagram": "instagram|instagram|instagram|Instagram", "twitter": "twitter|twitter|twitter|Twitter DM",
    "apple": "apple|apple|Apple Messages for Business|ABC", "wechat": "wechat|wechat|wechat|WeChat",
    "rcs": "rcs|rcs|rcs|RCS", "mms": "mms|mms|mms|MMS",
}  # fmt: skip
_TENANTS = ("acme-retail", "acme-bank", "acme-health", "globex-travel")
_FIRST = ("alex", "sam", "maria", "li", "priya", "john", "fatima", "noah", "emma", "wei")
_LAST = ("smith", "garcia", "chen", "patel", "muller", "martin", "tan", "nguyen", "brown", "kumar")
_DOMAINS = ("example.com", "example.net", "example.org", "mail.example.com")
# The OneAPI-style deliveryStatus words of the vendor's webhook, by status class.
_DELIVERY_STATUS = {
    "delivered": "DeliveredToTerminal", "read": "DeliveredToTerminal", "submitted": "DeliveredToNetwork",
    "queued": "MessageWaiting", "failed": "DeliveryImpossible", "undelivered": "DeliveryImpossible",
    "unknown": "DeliveryUncertain",
}  # fmt: skip

_MASK, _GOLDEN = 2**64 - 1, 0x9E3779B97F4A7C15


def _scramble(x: int) -> int:
    """splitmix64's finaliser on a Python int."""
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def _bits(column: str, seed: int, stream: str) -> pl.Expr:
    """splitmix64 of an index column: a bijection (so ids are unique) whose output passes as random.

    One stream per decision, so adding a decision never changes the others; the key is scrambled
    so that one stream at index i never lines up with another at i + 1.
    """
    key = _scramble((_scramble(seed & _MASK) + zlib.crc32(stream.encode()) * _GOLDEN) & _MASK)
    x = pl.col(column).cast(pl.UInt64) * pl.lit(_GOLDEN, pl.UInt64) + pl.lit(key, pl.UInt64)
    x = x.xor(x // 2**30) * pl.lit(0xBF58476D1CE4E5B9, pl.UInt64)  # Polars wraps UInt64 products
    x = x.xor(x // 2**27) * pl.lit(0x94D049BB133111EB, pl.UInt64)
    return x.xor(x // 2**31)


def _uniform(column: str, seed: int, stream: str) -> pl.Expr:
    return (_bits(column, seed, stream) // 2**11).cast(pl.Float64) * 2.0**-53


def _pick(u: pl.Expr, options: Sequence[Any], weights: Sequence[float] | None = None) -> pl.Expr:
    """The option whose cumulative-weight interval holds `u` (uniform in [0, 1))."""
    weights = weights or [1.0] * len(options)
    cum = [c / sum(weights) for c in itertools.accumulate(weights)]
    index = pl.lit(pl.Series([*cum[:-1], 1.0])).search_sorted(u, "right")
    return pl.lit(pl.Series(list(options))).gather(index)


def _keyed(index: pl.Expr, u: pl.Expr, keys: Sequence[str], table: Mapping[str, Any]) -> pl.Expr:
    """One of `table[keys[index]]`'s equally likely entries (a sequence, or text split on "|")."""
    rows = [v.split("|") if isinstance(v, str) else v for v in (table[k] for k in keys)]
    flat, width = pl.Series([value for row in rows for value in row]), len(rows[0])
    return pl.lit(flat).gather(index * width + (u * width).cast(pl.Int64))


def _hex(frame: pl.DataFrame, expr: pl.Expr) -> pl.Series:
    """16 hex digits of a UInt64 expression (Arrow views the integers as 8-byte strings)."""
    values = frame.select(expr.alias("v")).to_series().to_arrow()
    return pl.Series(pl.from_arrow(values.view(pa.binary(8)))).bin.encode("hex")


@dataclass(frozen=True)
class _Plan:
    seed: int
    events: int
    start_ms: int
    span_ms: int
    files: int
    pools: pl.DataFrame  # key (2 * pool + cumulative weight), code
    lookup: pl.DataFrame  # channel, code, description, status_class: the channel's row, else common
    delivered: dict[str, int]  # the channel's documented delivered code; 7500 where none is documented
    read_channels: list[str]


def _plan(seed: int, events: int, start: dt.date, days: int, files: int) -> _Plan:
    codes = build_dimension().codes
    own = codes.filter(pl.col("channel") != "common").select("channel", "code", "message", "status_class")
    common = codes.filter(pl.col("channel") == "common").select("code", "message", "status_class")
    fallback = pl.DataFrame({"channel": CHANNEL_KEYS}).join(common, how="cross")
    fallback = fallback.join(own, on=["channel", "code"], how="anti").select(own.columns)
    delivered = own.filter(pl.col("status_class") == "delivered").select("channel", "code")
    return _Plan(
        seed=seed,
        events=events,
        start_ms=calendar.timegm(start.timetuple()) * 1000,
        span_ms=days * 86_400_000,
        files=files,
        pools=_failure_pools(codes),
        lookup=pl.concat([own, fallback]).rename({"message": "description"}),
        delivered={**dict.fromkeys(CHANNEL_KEYS, 7500), **dict(delivered.iter_rows())},
        read_channels=own.filter(pl.col("status_class") == "read")["channel"].to_list(),
    )


def _failure_pools(codes: pl.DataFrame) -> pl.DataFrame:
    """Per channel three pools (any, retryable, US/Canada-only), Zipf-weighted in document order."""
    failing = codes.filter(pl.col("status_class").is_in(["failed", "undelivered"])).sort("source_line")

    def members(channel: str, scope: str, retry: bool) -> list[int]:
        rows = failing.filter((pl.col("channel") == channel) & (pl.col("region_scope") == scope))
        return (rows.filter(pl.col("retryable").fill_null(False)) if retry else rows)["code"].to_list()

    keys: list[float] = []
    pool_codes: list[int] = []
    for index, channel in enumerate(_CHANNELS):
        for kind, (scope, retry) in enumerate((("all", False), ("all", True), ("us+ca", False))):
            # API errors from the common table are a minority of real failures.
            mine, shared = members(channel, scope, retry), members("common", "all", retry)
            w = [0.88 / (r + 1) for r in range(len(mine))] + [0.12 / (r + 1) for r in range(len(shared))]
            cum = [c / sum(w) for c in itertools.accumulate(w)]
            keys += [2 * (index * 3 + kind) + c for c in [*cum[:-1], 1.0]]
            pool_codes += mine + shared
    return pl.DataFrame({"key": keys, "code": pool_codes}, schema={"key": pl.Float64, "code": pl.Int64})


def _messages(plan: _Plan, first: int, count: int) -> pl.DataFrame:
    """One row per message: channel, region, lifecycle, failure code, id, addresses."""
    u = functools.partial(_uniform, "msg", plan.seed)
    channel, region, life = pl.col("channel"), pl.col("region"), pl.col("life")
    frame = pl.DataFrame({"msg": pl.int_range(first, first + count, dtype=pl.UInt64, eager=True)})
    frame = frame.with_columns(
        ci=_pick(u("channel"), range(len(_CHANNELS)), list(CHANNEL_WEIGHTS.values())).cast(pl.Int64),
        ri=_pick(u("region"), range(len(_REGIONS)), list(REGION_WEIGHTS.values())).cast(pl.Int64),
        life=_pick(u("life"), range(7), [w for w, _ in _LIFECYCLES[:7]]).cast(pl.Int64),
    )
    frame = frame.with_columns(
        channel=pl.lit(pl.Series(_CHANNELS)).gather("ci"), region=pl.lit(pl.Series(_REGIONS)).gather("ri")
    )
    life = pl.when((life == _READ) & ~channel.is_in(plan.read_channels)).then(_DELIVERED).otherwise(life)
    queued = pl.when(life.is_in([_FAILED, _RETRY])).then(_QUEUED_FAILED).otherwise(_QUEUED_DELIVERED)
    apple_queued = (channel == "apple") & (u("queue") < 0.4) & life.is_in([_DELIVERED, _FAILED, _RETRY])
    frame = frame.with_columns(pl.when(apple_queued).then(queued).otherwise(life).alias("life"))
    # US/Canada-only SMS codes: common in us/ca, rare elsewhere (a data-quality finding downstream).
    us_ca = (channel == "sms") & (u("pool") < pl.when(region.is_in(US_CA_REGIONS)).then(0.4).otherwise(0.03))
    kind = pl.when(pl.col("life") == _RETRY).then(1).when(us_ca).then(2).otherwise(0)
    key = pl.lit(plan.pools["key"]).search_sorted((pl.col("ci") * 3 + kind) * 2 + u("failure"))
    frame = frame.with_columns(fail_code=pl.lit(plan.pools["code"]).gather(key))
    frame = frame.with_columns(_hex(frame, _bits("msg", plan.seed, f"h{i}")).alias(f"h{i}") for i in range(6))
    h0, h1 = pl.col("h0"), pl.col("h1")
    message_id = [h0.str.head(8), h0.str.slice(8, 4), h0.str.tail(4), h1.str.head(4), h1.str.tail(12)]
    callback = pl.format("order-{}", _bits("msg", plan.seed, "callback") % 10**7)
    carrier = _keyed(pl.col("ri"), u("prefix"), _REGIONS, _CARRIERS)  # the carrier of the number's range
    return frame.with_columns(
        message_id=pl.concat_str(message_id, separator="-"),  # unique: h0 is a bijection of the index
        destination=_destination(plan.seed),
        sender=_keyed(pl.col("ci"), u("sender"), _CHANNELS, _SENDERS),
        carrier=pl.when(channel.is_in(_CARRIER_CHANNELS)).then(carrier),
        tenant=_pick(u("tenant"), _TENANTS, [5, 3, 1, 1]),
        callback=pl.when(u("callback") < 0.6).then(callback),
    ).drop("h0", "h1", "h2", "h3", "h4", "h5")


def _destination(seed: int) -> pl.Expr:
    """E.164 numbers matching the region, email addresses, device tokens, platform user ids."""
    u, bits = functools.partial(_uniform, "msg", seed), functools.partial(_bits, "msg", seed)
    channel, ri, h = pl.col("channel"), pl.col("ri"), [pl.col(f"h{i}") for i in range(2, 6)]
    prefix, width = (_keyed(ri, u("prefix"), _REGIONS, table) for table in (_PREFIXES, _WIDTHS))
    phone = prefix + (bits("digits") % 10**9).cast(pl.String).str.zfill(9).str.head(width)
    first, last, domain = _pick(u("first"), _FIRST), _pick(u("last"), _LAST), _pick(u("domain"), _DOMAINS)
    email = pl.concat_str(
        first, pl.lit("."), last, (bits("suffix") % 100).cast(pl.String), pl.lit("@"), domain
    )
    user_id = (bits("user") % 10**16).cast(pl.String).str.zfill(16)
    return (
        pl.when(channel.is_in(_PHONE_CHANNELS)).then(phone)
        .when(channel == "email").then(email)
        .when(channel == "push").then(pl.concat_str(h))  # an APNs-style 64-hex device token
        .when(channel == "inapp").then("usr_" + h[0])
        .when(channel == "apple").then("urn:mbid:" + h[0] + h[1])
        .when(channel == "wechat").then("o" + (h[0] + h[1]).str.head(27))
        .when(channel == "gbm").then(pl.concat_str(h[0].str.head(8), h[0].str.tail(8), h[1], separator="-"))
        .otherwise("1" + user_id)  # messenger, instagram and twitter numeric ids
    )  # fmt: skip


def _offsets(seed: int) -> list[pl.Expr]:
    """Milliseconds from a message's first event to its k-th (k = 1..3); zero past its last step."""
    offsets, total = [], pl.lit(0, pl.Int64)
    for k in (1, 2, 3):
        bounds = [_STEPS[names[k]][1:] if k < len(names) else (0, 0) for _, names in _LIFECYCLES]
        low, high = (pl.lit(pl.Series([float(b[j]) for b in bounds])).gather(pl.col("life")) for j in (0, 1))
        total = total + ((low + _uniform("msg", seed, f"gap{k}") * (high - low)) * 1000).cast(pl.Int64)
        offsets.append(total.alias(f"offset{k}"))
    return offsets


def _events(plan: _Plan, messages: pl.DataFrame, first_event: int) -> pl.DataFrame:
    """Expand messages into their lifecycles, spread over the window, times increasing per message."""
    steps = pl.DataFrame(
        [(i, k, s, _STEPS[s][0]) for i, (_, names) in enumerate(_LIFECYCLES) for k, s in enumerate(names)],
        schema={"life": pl.Int64, "k": pl.Int64, "step": pl.String, "step_code": pl.Int64},
        orient="row",
    )
    sizes = pl.col("life").replace_strict({i: len(names) for i, (_, names) in enumerate(_LIFECYCLES)})
    # A message starts where its first event falls in the run, scaled to leave room for its own
    # duration (offset3), so every event stays inside the window.
    position = (first_event + sizes.cum_sum() - sizes).cast(pl.Float64) / plan.events
    messages = messages.with_columns(_offsets(plan.seed)).with_columns(
        start_ms=plan.start_ms + (position * (plan.span_ms - pl.col("offset3"))).cast(pl.Int64)
    )
    frame = messages.join(steps, on="life", maintain_order="left_right").head(plan.events - first_event)
    k, step = pl.col("k"), pl.col("step")
    offset = pl.when(k == 0).then(0).when(k == 1).then("offset1").when(k == 2).then("offset2")
    delivered = pl.col("channel").replace_strict(plan.delivered, return_dtype=pl.Int64)
    code = pl.when(step == "failure").then("fail_code").when(step == "delivered").then(delivered)
    frame = frame.with_columns(
        ev=pl.int_range(first_event, first_event + frame.height, dtype=pl.UInt64),
        code=code.otherwise("step_code"),
        event_ms=pl.col("start_ms") + offset.otherwise("offset3"),
    ).join(plan.lookup, on=["channel", "code"], how="left", maintain_order="left")
    frame = frame.with_columns(
        file=(pl.col("ev") * plan.files // plan.events).cast(pl.Int64),
        status_class=pl.col("status_class").fill_null("unknown"),
    )
    # Exports are ordered by time, so one message's events interleave with other messages'.
    return frame.sort("file", "event_ms", maintain_order=True)


def _time_text(seed: int) -> pl.Expr:
    """Mostly UTC with `Z`; India-hosted rows often in local time; some `+00:00` without a fraction."""
    u = _uniform("ev", seed, "time")
    india = (pl.col("region") == "in") & (u < 0.6)
    local = pl.col("event_ms") + pl.when(india).then(330 * 60_000).otherwise(0)
    text = pl.from_epoch(local, time_unit="ms").dt.strftime("%Y-%m-%dT%H:%M:%S%.3f")
    no_fraction = text.str.head(19) + "+00:00"
    return pl.when(india).then(text + "+05:30").when(u > 0.9).then(no_fraction).otherwise(text + "Z")


def _spelled(seed: int) -> pl.Expr:
    return _keyed(pl.col("ci"), _uniform("ev", seed, "spelling"), _CHANNELS, _SPELLINGS)


def _json_line(seed: int) -> pl.Expr:
    """An NDJSON record; a few carry `event_time` as epoch milliseconds (a number, not a string)."""
    epoch = _uniform("ev", seed, "epoch") < 0.05
    time_json = (
        pl.when(epoch).then(pl.col("event_ms").cast(pl.String)).otherwise('"' + _time_text(seed) + '"')
    )
    body = pl.struct(
        "message_id", channel=_spelled(seed), status_code="code", status_description="description",
        region="region", destination="destination", sender="sender", tenant="tenant",
    ).struct.json_encode()  # fmt: skip
    return pl.concat_str(pl.lit('{"event_time":'), time_json, pl.lit(","), body.str.slice(1))


def _webhook_line(seed: int) -> pl.Expr:
    """The vendor's deliveryInfoNotification body: every value a string, "" when missing."""
    channel, empty = pl.col("channel"), pl.lit("")
    phone, email = channel.is_in(_PHONE_CHANNELS), channel == "email"
    failure = pl.col("status_class").is_in(["failed", "undelivered"])
    info = pl.struct(
        timeStamp=pl.from_epoch("event_ms", time_unit="ms").dt.strftime("%Y-%m-%dT%H:%M:%S%.3fZ"),
        code=pl.col("code").cast(pl.String),
        Description=pl.col("description").fill_null(""),
        deliveryChannel=_spelled(seed),
        deliveryStatus=pl.col("status_class").replace_strict(_DELIVERY_STATUS),
        destination=pl.col("destination").str.strip_prefix("+"),
        destinationType=pl.when(phone)
        .then(pl.lit("MSISDN"))
        .when(email)
        .then(pl.lit("EMAIL"))
        .otherwise(pl.lit("USERID")),
        messageCount=pl.lit("1"),
        # WhatsApp sends its error text in additionalInfo (the document says so).
        additionalInfo=pl.when(failure & (channel == "whatsapp")).then("description").otherwise(empty),
    )
    callback = pl.col("callback")
    notification = pl.struct(
        info.alias("deliveryInfo"), transid="message_id", subtid=empty,
        carrier=pl.col("carrier").fill_null(""), callbackData=callback.fill_null(""),
        correlationid=pl.when(callback.is_null()).then(empty).otherwise(pl.col("message_id").str.head(8)),
    )  # fmt: skip
    return pl.struct(notification.alias("deliveryInfoNotification")).struct.json_encode()


def _parquet_table(frame: pl.DataFrame, seed: int) -> Any:
    event_time = pl.from_epoch("event_ms", time_unit="ms").dt.replace_time_zone("UTC").dt.cast_time_unit("us")
    event_id = pl.format("ev-{}", _bits("ev", seed, "event_id"))
    return frame.select(
        event_time.alias("event_time"), "message_id", "channel", pl.col("code").alias("status_code"),
        "region", "destination", "sender", event_id=event_id,
    ).to_arrow()  # fmt: skip


def _write_text(fmt: str, frame: pl.DataFrame, path: Path, seed: int, header: bool) -> None:
    with path.open("ab") as out:
        if fmt == "csv":
            frame.select(
                eventTime=_time_text(seed), transid="message_id", channel=_spelled(seed), statusCode="code",
                statusDescription="description", region="region", destination="destination", sender="sender",
                carrier="carrier",
            ).write_csv(out, include_header=header)  # fmt: skip
            return
        line = _webhook_line(seed) if fmt == "webhook" else _json_line(seed)
        if fmt == "json":
            line = line + ","  # the file's last comma becomes the closing bracket
        frame.select(line.alias("line")).write_csv(out, include_header=False, quote_style="never")


def _close_json_array(path: Path) -> None:
    with path.open("r+b") as out:
        out.seek(-2, 2)  # ",\n"
        out.truncate()
        out.write(b"\n]\n")


class _Sink:
    """Output files, opened on first use; each is written under a temporary name and renamed at the end."""

    def __init__(self, stack: contextlib.ExitStack, fmt: str, seed: int) -> None:
        self.stack, self.fmt, self.seed = stack, fmt, seed
        self.temporary: dict[Path, Path] = {}
        self.parquet: dict[Path, Any] = {}

    def append(self, path: Path, frame: pl.DataFrame) -> None:
        first = path not in self.temporary
        if first:
            # Callbacks run before atomic_path's rename (last in, first out).
            self.temporary[path] = self.stack.enter_context(atomic_path(path))
            if self.fmt == "json":
                self.temporary[path].write_bytes(b"[\n")
                self.stack.callback(_close_json_array, self.temporary[path])
        if self.fmt != "parquet":
            _write_text(self.fmt, frame, self.temporary[path], self.seed, header=first)
            return
        table = _parquet_table(frame, self.seed)
        if first:
            self.parquet[path] = pq.ParquetWriter(self.temporary[path], table.schema, compression="zstd")
            self.stack.callback(self.parquet[path].close)
        self.parquet[path].write_table(table)


def _chunks(plan: _Plan) -> Iterator[pl.DataFrame]:
    first_message = first_event = 0
    while first_event < plan.events:
        # About 2.1 events per message: a small run does not pay for a full chunk.
        count = min(CHUNK_MESSAGES, (plan.events - first_event) // 2 + 16)
        chunk = _events(plan, _messages(plan, first_message, count), first_event)
        first_message, first_event = first_message + count, first_event + chunk.height
        yield chunk


def generate(
    out_dir: Path,
    events: int,
    fmt: str,
    seed: int = 0,
    days: int = 1,
    start: dt.date = dt.date(2026, 11, 23),
    files: int = 1,
) -> list[Path]:
    """Write `events` synthetic delivery events in `fmt` under `out_dir`; return the files written.

    Events spread over `days` UTC days from `start` and split by position into `files` files
    (`events.<ext>`, or `events-0001.<ext>`...). Webhook bodies carry no region, so they go to
    `region=<r>/` folders, as a hive partition would deliver them. Same arguments, same bytes.
    """
    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    if events < 0 or days < 1 or files < 1:
        raise UsageError(f"events must be >= 0, days and files >= 1 (got {events}, {days}, {files})")
    plan = _plan(seed, events, start, days, files)
    by = ["file", "region"] if fmt == "webhook" else ["file"]
    with contextlib.ExitStack() as stack:
        sink = _Sink(stack, fmt, seed)
        for chunk in _chunks(plan):
            for key, part in sorted(chunk.partition_by(by, as_dict=True, maintain_order=True).items()):
                name = "events." if files == 1 else f"events-{int(key[0]) + 1:04d}."
                folder = Path(out_dir) / f"region={key[1]}" if fmt == "webhook" else Path(out_dir)
                sink.append(folder / (name + _EXTENSION[fmt]), part)
        written = sorted(sink.temporary)
    return written
