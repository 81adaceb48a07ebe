"""Figures a test prints whatever pytest captures: robustness tests are read for their counts, not only pass/fail."""

from __future__ import annotations

import pytest


def report(config: pytest.Config, title: str, figures: dict[str, object]) -> None:
    """Write one line of figures straight to the terminal (captured output would hide it on success)."""
    line = f"{title}: " + ", ".join(f"{name} {value}" for name, value in figures.items())
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        print(line)
        return
    with config.pluginmanager.get_plugin("capturemanager").global_and_fixture_disabled():
        reporter.ensure_newline()
        reporter.write_line(line)
