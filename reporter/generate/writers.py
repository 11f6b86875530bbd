"""The per-format writers: CSV, JSON lines, a JSON array, webhook bodies and Parquet tables.

Each format is a Polars expression over a chunk of events; `Sink` appends chunks to files opened on
first use, each written under a temporary name and renamed into place at the end.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import polars as pl

from reporter.fsio import atomic_path
from reporter.generate.hashing import bits, keyed, uniform
from reporter.generate.model import CHANNELS
from reporter.vocabulary import FAILURE_CLASSES, PHONE_CHANNELS

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
# The OneAPI-style deliveryStatus words of the vendor's webhook, by status class.
_DELIVERY_STATUS = {
    "delivered": "DeliveredToTerminal", "read": "DeliveredToTerminal", "submitted": "DeliveredToNetwork",
    "queued": "MessageWaiting", "failed": "DeliveryImpossible", "undelivered": "DeliveryImpossible",
    "unknown": "DeliveryUncertain",
}  # fmt: skip


def _time_text(seed: int) -> pl.Expr:
    """Mostly UTC with `Z`; India-hosted rows often in local time; some `+00:00` without a fraction."""
    u = uniform("ev", seed, "time")
    india = (pl.col("region") == "in") & (u < 0.6)
    local = pl.col("event_ms") + pl.when(india).then(330 * 60_000).otherwise(0)
    text = pl.from_epoch(local, time_unit="ms").dt.strftime("%Y-%m-%dT%H:%M:%S%.3f")
    no_fraction = text.str.head(19) + "+00:00"
    return pl.when(india).then(text + "+05:30").when(u > 0.9).then(no_fraction).otherwise(text + "Z")


def _spelled(seed: int) -> pl.Expr:
    return keyed(pl.col("ci"), uniform("ev", seed, "spelling"), CHANNELS, _SPELLINGS)


def _json_line(seed: int) -> pl.Expr:
    """An NDJSON record; a few carry `event_time` as epoch milliseconds (a number, not a string)."""
    epoch = uniform("ev", seed, "epoch") < 0.05
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
    phone, email = channel.is_in(PHONE_CHANNELS), channel == "email"
    failure = pl.col("status_class").is_in(FAILURE_CLASSES)
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
    event_id = pl.format("ev-{}", bits("ev", seed, "event_id"))
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


class Sink:
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
            import pyarrow.parquet as pq  # here: `reporter run` imports this package and needs no pyarrow

            self.parquet[path] = pq.ParquetWriter(self.temporary[path], table.schema, compression="zstd")
            self.stack.callback(self.parquet[path].close)
        self.parquet[path].write_table(table)
