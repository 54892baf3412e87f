"""Fixtures of the reliability tests (defined in reliability_kit, with the helpers they share)."""

from reliability_kit import keyed_server  # noqa: F401


def pytest_configure(config) -> None:
    # Tests that need an optional extra carry its marker: `-m "not ray"` deselects them explicitly
    # (they also skip themselves when the package is missing; `.[dev]`, hence CI, installs ray).
    config.addinivalue_line("markers", "ray: needs ray (pip install 'trait[ray]'); skipped without it")
