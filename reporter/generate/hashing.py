"""Counter-based randomness as Polars expressions: splitmix64 of an index column, and draws from it.

Every value is a pure function of (seed, stream, index), so the output does not depend on how the
rows are chunked, and the same arguments give the same bytes.
"""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

_MASK, _GOLDEN = 2**64 - 1, 0x9E3779B97F4A7C15


def _scramble(x: int) -> int:
    """splitmix64's finaliser on a Python int."""
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def bits(column: str, seed: int, stream: str) -> pl.Expr:
    """splitmix64 of an index column: a bijection (so ids are unique) whose output passes as random.

    One stream per decision, so adding a decision never changes the others; the key is scrambled
    so that one stream at index i never lines up with another at i + 1.
    """
    key = _scramble((_scramble(seed & _MASK) + zlib.crc32(stream.encode()) * _GOLDEN) & _MASK)
    x = pl.col(column).cast(pl.UInt64) * pl.lit(_GOLDEN, pl.UInt64) + pl.lit(key, pl.UInt64)
    x = x.xor(x // 2**30) * pl.lit(0xBF58476D1CE4E5B9, pl.UInt64)  # Polars wraps UInt64 products
    x = x.xor(x // 2**27) * pl.lit(0x94D049BB133111EB, pl.UInt64)
    return x.xor(x // 2**31)


def uniform(column: str, seed: int, stream: str) -> pl.Expr:
    return (bits(column, seed, stream) // 2**11).cast(pl.Float64) * 2.0**-53


def pick(u: pl.Expr, options: Sequence[Any], weights: Sequence[float] | None = None) -> pl.Expr:
    """The option whose cumulative-weight interval holds `u` (uniform in [0, 1))."""
    weights = weights or [1.0] * len(options)
    cum = [c / sum(weights) for c in itertools.accumulate(weights)]
    index = pl.lit(pl.Series([*cum[:-1], 1.0])).search_sorted(u, "right")
    return pl.lit(pl.Series(list(options))).gather(index)


def keyed(index: pl.Expr, u: pl.Expr, keys: Sequence[str], table: Mapping[str, Any]) -> pl.Expr:
    """One of `table[keys[index]]`'s equally likely entries (a sequence, or text split on "|")."""
    rows = [v.split("|") if isinstance(v, str) else v for v in (table[k] for k in keys)]
    flat, width = pl.Series([value for row in rows for value in row]), len(rows[0])
    return pl.lit(flat).gather(index * width + (u * width).cast(pl.Int64))
