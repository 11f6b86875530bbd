"""The code dimension, built from the vendor's status-code document (never typed by hand)."""

from reporter.codes.channels import CHANNEL_KEYS, channel_key, channel_or_common
from reporter.codes.dimension import (
    TABLE_COLUMNS,
    CodeFilter,
    Dimension,
    build_dimension,
    explain_code,
    explanation_text,
    select_codes,
)

__all__ = [
    "CHANNEL_KEYS",
    "TABLE_COLUMNS",
    "CodeFilter",
    "Dimension",
    "build_dimension",
    "channel_key",
    "channel_or_common",
    "explain_code",
    "explanation_text",
    "select_codes",
]
