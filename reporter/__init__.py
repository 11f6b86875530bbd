"""reporter: failure breakdowns for CPaaS messaging delivery logs."""

__version__ = "0.1.0"
