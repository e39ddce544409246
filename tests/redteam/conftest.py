"""Red-team fixtures: hostile inputs built on the fly (FIFOs, sparse files and damaged zips cannot live in git)."""

from __future__ import annotations


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes more than about ten seconds (deselect with -m 'not slow')")
