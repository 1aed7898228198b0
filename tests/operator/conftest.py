"""What the operator's end-to-end suites share: the figures they measure, printed at the end."""

from __future__ import annotations

import pytest

from tests.operator.e2e.conftest import MEASUREMENTS


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if MEASUREMENTS:
        terminalreporter.section("operator end-to-end measurements")
        for name, value in MEASUREMENTS.items():
            terminalreporter.write_line(f"{name}: {value}")
