"""The code dimension, built from the vendor's status-code document (never typed by hand)."""

from reporter.codes.channels import CHANNEL_KEYS, channel_key
from reporter.codes.dimension import CodeFilter, Dimension, build_dimension, explain_code, select_codes

__all__ = [
    "CHANNEL_KEYS",
    "CodeFilter",
    "Dimension",
    "build_dimension",
    "channel_key",
    "explain_code",
    "select_codes",
]
