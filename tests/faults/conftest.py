"""What the fault suite measured: the worst answer time and the recovery time of each case,
printed at the end of the run."""

from __future__ import annotations

from typing import Any

# (dependency, fault) -> (worst answer seconds, requests answered, seconds to recover)
FIGURES: dict[tuple[str, str], tuple[float, int, float]] = {}


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not FIGURES:
        return
    terminalreporter.section("fault suite: worst answer and recovery per case")
    for (dependency, fault), (worst, answered, recovered) in sorted(FIGURES.items()):
        terminalreporter.write_line(
            f"{dependency:<10} {fault:<11} worst answer {worst * 1000:6.0f} ms over {answered:3d} requests, recovered in {recovered:.2f} s"
        )
