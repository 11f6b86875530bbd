"""The message/event model: who is sent what on which channel, and each message's lifecycle of events.

A plan fixes the run (seed, window, failure-code pools from the code dimension); messages get a
channel, region, lifecycle, failure code and addresses; events expand each lifecycle over the
window, with times increasing per message. Codes come from the code dimension, so the data follows
the vendor's document.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import itertools
from dataclasses import dataclass

import polars as pl

from reporter.codes import CHANNEL_KEYS, build_dimension
from reporter.errors import UsageError
from reporter.generate.hashing import bits, keyed, pick, uniform
from reporter.generate.traffic import Incident, delivery_seconds, lifecycle, seasonal
from reporter.vocabulary import FAILURE_CLASSES, PHONE_CHANNELS

CHANNEL_WEIGHTS: dict[str, float] = {
    "sms": 34, "whatsapp": 20, "email": 17, "push": 12, "voice": 5, "inapp": 2.5, "rcs": 2, "mms": 2,
    "messenger": 1.5, "instagram": 1.2, "apple": 1, "gbm": 0.8, "wechat": 0.8, "twitter": 0.1,
}  # fmt: skip
REGION_WEIGHTS: dict[str, float] = {"us": 35, "eu": 20, "in": 13, "uk": 12, "au": 8, "ca": 6, "sg": 6}
CHANNELS, _REGIONS = tuple(CHANNEL_WEIGHTS), tuple(REGION_WEIGHTS)
US_CA_REGIONS = ("us", "ca")
UNDOCUMENTED_CODE = 7999
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
    (0.0, ("queued", "submitted", "delivered")),  # Apple only, chosen in make_messages
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
_TENANTS = ("acme-retail", "acme-bank", "acme-health", "globex-travel")
_FIRST = ("alex", "sam", "maria", "li", "priya", "john", "fatima", "noah", "emma", "wei")
_LAST = ("smith", "garcia", "chen", "patel", "muller", "martin", "tan", "nguyen", "brown", "kumar")
_DOMAINS = ("example.com", "example.net", "example.org", "mail.example.com")


def _hex(frame: pl.DataFrame, expr: pl.Expr) -> pl.Series:
    """16 hex digits of a UInt64 expression (Arrow views the integers as 8-byte strings)."""
    import pyarrow as pa  # here: `reporter run` imports this package (its CLI) and needs no pyarrow

    values = frame.select(expr.alias("v")).to_series().to_arrow()
    return pl.Series(pl.from_arrow(values.view(pa.binary(8)))).bin.encode("hex")


@dataclass(frozen=True)
class Plan:
    seed: int
    events: int
    start_ms: int
    span_ms: int
    files: int
    pools: pl.DataFrame  # key (2 * pool + cumulative weight), code
    lookup: pl.DataFrame  # channel, code, description, status_class: the channel's row, else common
    delivered: dict[str, int]  # the channel's documented delivered code; 7500 where none is documented
    read_channels: list[str]
    start: dt.date
    days: int
    realistic: bool = False  # rates, seasonality and latencies of traffic.py instead of the uniform model
    incident: Incident | None = None


def make_plan(
    seed: int,
    events: int,
    start: dt.date,
    days: int,
    files: int,
    realistic: bool = False,
    incident: Incident | None = None,
) -> Plan:
    codes = build_dimension().codes
    if incident is not None:
        incident.check(start, days, _CARRIERS, codes)
        if incident.carrier is not None and incident.channel not in _CARRIER_CHANNELS:
            raise UsageError(f"incident: carriers are known for {', '.join(_CARRIER_CHANNELS)} only")
    own = codes.filter(pl.col("channel") != "common").select("channel", "code", "message", "status_class")
    common = codes.filter(pl.col("channel") == "common").select("code", "message", "status_class")
    fallback = pl.DataFrame({"channel": CHANNEL_KEYS}).join(common, how="cross")
    fallback = fallback.join(own, on=["channel", "code"], how="anti").select(own.columns)
    delivered = own.filter(pl.col("status_class") == "delivered").select("channel", "code")
    return Plan(
        seed=seed,
        events=events,
        start_ms=calendar.timegm(start.timetuple()) * 1000,
        span_ms=days * 86_400_000,
        files=files,
        pools=_failure_pools(codes),
        lookup=pl.concat([own, fallback]).rename({"message": "description"}),
        delivered={**dict.fromkeys(CHANNEL_KEYS, 7500), **dict(delivered.iter_rows())},
        read_channels=own.filter(pl.col("status_class") == "read")["channel"].to_list(),
        start=start,
        days=days,
        realistic=realistic,
        incident=incident,
    )


def _failure_pools(codes: pl.DataFrame) -> pl.DataFrame:
    """Per channel three pools (any, retryable, US/Canada-only), Zipf-weighted in document order."""
    failing = codes.filter(pl.col("status_class").is_in(FAILURE_CLASSES)).sort("source_line")

    def members(channel: str, scope: str, retry: bool) -> list[int]:
        rows = failing.filter((pl.col("channel") == channel) & (pl.col("region_scope") == scope))
        return (rows.filter(pl.col("retryable").fill_null(False)) if retry else rows)["code"].to_list()

    keys: list[float] = []
    pool_codes: list[int] = []
    for index, channel in enumerate(CHANNELS):
        for kind, (scope, retry) in enumerate((("all", False), ("all", True), ("us+ca", False))):
            # API errors from the common table are a minority of real failures.
            mine, shared = members(channel, scope, retry), members("common", "all", retry)
            w = [0.88 / (r + 1) for r in range(len(mine))] + [0.12 / (r + 1) for r in range(len(shared))]
            cum = [c / sum(w) for c in itertools.accumulate(w)]
            keys += [2 * (index * 3 + kind) + c for c in [*cum[:-1], 1.0]]
            pool_codes += mine + shared
    return pl.DataFrame({"key": keys, "code": pool_codes}, schema={"key": pl.Float64, "code": pl.Int64})


def make_messages(plan: Plan, first: int, count: int) -> pl.DataFrame:
    """One row per message: channel, region, lifecycle, failure code, id, addresses."""
    u = functools.partial(uniform, "msg", plan.seed)
    channel, region, life = pl.col("channel"), pl.col("region"), pl.col("life")
    frame = pl.DataFrame({"msg": pl.int_range(first, first + count, dtype=pl.UInt64, eager=True)})
    frame = frame.with_columns(
        ci=pick(u("channel"), range(len(CHANNELS)), list(CHANNEL_WEIGHTS.values())).cast(pl.Int64),
        ri=pick(u("region"), range(len(_REGIONS)), list(REGION_WEIGHTS.values())).cast(pl.Int64),
    )
    chosen = (
        lifecycle(u("life"), CHANNELS, _REGIONS)
        if plan.realistic
        else pick(u("life"), range(7), [w for w, _ in _LIFECYCLES[:7]])
    )
    frame = frame.with_columns(
        channel=pl.lit(pl.Series(CHANNELS)).gather("ci"),
        region=pl.lit(pl.Series(_REGIONS)).gather("ri"),
        life=chosen.cast(pl.Int64),
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
    frame = frame.with_columns(_hex(frame, bits("msg", plan.seed, f"h{i}")).alias(f"h{i}") for i in range(6))
    h0, h1 = pl.col("h0"), pl.col("h1")
    message_id = [h0.str.head(8), h0.str.slice(8, 4), h0.str.tail(4), h1.str.head(4), h1.str.tail(12)]
    callback = pl.format("order-{}", bits("msg", plan.seed, "callback") % 10**7)
    carrier = keyed(pl.col("ri"), u("prefix"), _REGIONS, _CARRIERS)  # the carrier of the number's range
    return frame.with_columns(
        message_id=pl.concat_str(message_id, separator="-"),  # unique: h0 is a bijection of the index
        destination=_destination(plan.seed),
        sender=keyed(pl.col("ci"), u("sender"), CHANNELS, _SENDERS),
        carrier=pl.when(channel.is_in(_CARRIER_CHANNELS)).then(carrier),
        tenant=pick(u("tenant"), _TENANTS, [5, 3, 1, 1]),
        callback=pl.when(u("callback") < 0.6).then(callback),
    ).drop("h0", "h1", "h2", "h3", "h4", "h5")


def _destination(seed: int) -> pl.Expr:
    """E.164 numbers matching the region, email addresses, device tokens, platform user ids."""
    u, draw = functools.partial(uniform, "msg", seed), functools.partial(bits, "msg", seed)
    channel, ri, h = pl.col("channel"), pl.col("ri"), [pl.col(f"h{i}") for i in range(2, 6)]
    prefix, width = (keyed(ri, u("prefix"), _REGIONS, table) for table in (_PREFIXES, _WIDTHS))
    phone = prefix + (draw("digits") % 10**9).cast(pl.String).str.zfill(9).str.head(width)
    first, last, domain = pick(u("first"), _FIRST), pick(u("last"), _LAST), pick(u("domain"), _DOMAINS)
    email = pl.concat_str(
        first, pl.lit("."), last, (draw("suffix") % 100).cast(pl.String), pl.lit("@"), domain
    )
    user_id = (draw("user") % 10**16).cast(pl.String).str.zfill(16)
    return (
        pl.when(channel.is_in(PHONE_CHANNELS)).then(phone)
        .when(channel == "email").then(email)
        .when(channel == "push").then(pl.concat_str(h))  # an APNs-style 64-hex device token
        .when(channel == "inapp").then("usr_" + h[0])
        .when(channel == "apple").then("urn:mbid:" + h[0] + h[1])
        .when(channel == "wechat").then("o" + (h[0] + h[1]).str.head(27))
        .when(channel == "gbm").then(pl.concat_str(h[0].str.head(8), h[0].str.tail(8), h[1], separator="-"))
        .otherwise("1" + user_id)  # messenger, instagram and twitter numeric ids
    )  # fmt: skip


def _offsets(plan: Plan) -> list[pl.Expr]:
    """Milliseconds from a message's first event to its k-th (k = 1..3); zero past its last step.

    Realistic traffic draws the wait for a delivered receipt from the channel's latency instead.
    """
    offsets, total = [], pl.lit(0, pl.Int64)
    for k in (1, 2, 3):
        bounds = [_STEPS[names[k]][1:] if k < len(names) else (0, 0) for _, names in _LIFECYCLES]
        low, high = (pl.lit(pl.Series([float(b[j]) for b in bounds])).gather(pl.col("life")) for j in (0, 1))
        u = uniform("msg", plan.seed, f"gap{k}")
        gap = low + u * (high - low)
        if plan.realistic:
            delivered = [i for i, (_, names) in enumerate(_LIFECYCLES) if names[k : k + 1] == ("delivered",)]
            gap = pl.when(pl.col("life").is_in(delivered)).then(delivery_seconds(u, CHANNELS)).otherwise(gap)
        total = total + (gap * 1000).cast(pl.Int64)
        offsets.append(total.alias(f"offset{k}"))
    return offsets


def _incident(plan: Plan, messages: pl.DataFrame) -> pl.DataFrame:
    """Messages of the incident's scope that would have been delivered fail with its code instead.

    The day is the one the message's position falls on before its own duration is set aside (a
    message within minutes of midnight may land on the day beside). Delivered and failed lifecycles
    have two events each, so positions, and every other message, stay as they were.
    """
    incident = plan.incident
    if incident is None:
        return messages
    day = (pl.col("position") * plan.span_ms).cast(pl.Int64) // 86_400_000
    scope = (
        (pl.col("channel") == incident.channel)
        & (pl.col("region") == incident.region)
        & (day == (incident.day - plan.start).days)
        & (pl.col("life") == _DELIVERED)
        & (uniform("msg", plan.seed, "incident") < incident.rate)
    )
    if incident.carrier is not None:
        scope = scope & (pl.col("carrier") == incident.carrier)
    return messages.with_columns(
        life=pl.when(scope).then(_FAILED).otherwise("life"),
        fail_code=pl.when(scope).then(incident.code).otherwise("fail_code"),
    )


def make_events(plan: Plan, messages: pl.DataFrame, first_event: int) -> pl.DataFrame:
    """Expand messages into their lifecycles, spread over the window, times increasing per message."""
    steps = pl.DataFrame(
        [(i, k, s, _STEPS[s][0]) for i, (_, names) in enumerate(_LIFECYCLES) for k, s in enumerate(names)],
        schema={"life": pl.Int64, "k": pl.Int64, "step": pl.String, "step_code": pl.Int64},
        orient="row",
    )
    sizes = pl.col("life").replace_strict({i: len(names) for i, (_, names) in enumerate(_LIFECYCLES)})
    # A message starts where its first event falls in the run, scaled to leave room for its own
    # duration (offset3), so every event stays inside the window.
    # Realistic traffic maps it through the volume's daily and weekly curve.
    position = (first_event + sizes.cum_sum() - sizes).cast(pl.Float64) / plan.events
    messages = messages.with_columns(
        position=seasonal(position, plan.start, plan.days) if plan.realistic else position
    )
    messages = _incident(plan, messages).with_columns(_offsets(plan))
    messages = messages.with_columns(
        start_ms=plan.start_ms + (pl.col("position") * (plan.span_ms - pl.col("offset3"))).cast(pl.Int64)
    ).drop("position")
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
