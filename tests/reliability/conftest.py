"""Fixtures of the reliability tests (defined in reliability_kit, with the helpers they share)."""

from reliability_kit import keyed_server  # noqa: F401
