"""syncer: Losant integrations as code."""

__version__ = "0.2.0"
