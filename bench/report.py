"""Benchmark results and the table they are printed as."""

import statistics
from dataclasses import dataclass, field
from pathlib import Path

from bench.log import log


@dataclass
class Result:
    name: str
    n: int
    times: list[float] = field(default_factory=list)
    notes: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def min(self) -> float:
        return min(self.times)

    @property
    def max(self) -> float:
        return max(self.times)


def seconds(value: float) -> str:
    return f"{value:.3f} s" if value < 100 else f"{value:.0f} s"


def overhead_pct(with_: float, without: float) -> float:
    return (with_ - without) / without * 100


def table(results: list[Result]) -> str:
    """A Markdown table: readable on a terminal and in bench/results/latest.md."""
    header = ["benchmark", "N", "median", "min", "max", "notes"]
    rows = [
        [r.name, f"{r.n:,}", seconds(r.median), seconds(r.min), seconds(r.max), r.notes]
        if r.times
        else [r.name, f"{r.n:,}", "-", "-", "-", r.notes]
        for r in results
    ]
    widths = [max(len(line[i]) for line in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)) + " |"

    separator = "|" + "|".join("-" * (width + 2) for width in widths) + "|"
    return "\n".join([line(header), separator, *(line(row) for row in rows)])


def publish(text: str, path: Path) -> None:
    """Prints a benchmark's report and keeps it in bench/results/."""
    print(text)
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    log(f"table written to {path}")
