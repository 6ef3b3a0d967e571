"""bench/classify: the offline reply classifier's scores on the labelled replies, and its throughput.

    bench/classify [--quick] [--runs N]

Scores `sophie.classify.classify` on tests/data/replies_labelled.csv: for all rows, for the part the rules were
tuned on, and for the held-out quarter (every 4th row, never looked at while tuning). Then times `classify` over
100,000 replies and `manage.py classify_replies` end to end on a 100,000-line file, both pinned to one core.
Needs no database, Redis or network. Writes bench/results/classify.md.
"""

import argparse
import csv
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from statistics import median

from bench.log import log
from bench.report import publish
from campaigns.optout import KEYWORDS

REPO = Path(__file__).resolve().parent.parent
LABELLED = REPO / "tests" / "data" / "replies_labelled.csv"
RESULTS_FILE = Path(__file__).resolve().parent / "results" / "classify.md"
HELD_OUT_EVERY = 4  # rows 4, 8, 12, ... (1-based) are the held-out quarter
GOALS = {"keywords": 1.0, "phrases": 0.95, "false_opt_outs": 0.02, "status": 0.85}
GOAL_RATE = 5_000
REPLIES, QUICK_REPLIES = 100_000, 20_000


@dataclass(frozen=True)
class Reply:
    text: str
    status: str
    opt_out: bool
    intent: str
    held_out: bool

    @property
    def is_keyword(self) -> bool:
        """Told apart from the phrases by the label and the text alone, not by the rules under test."""
        core = "".join(ch if ch.isalnum() or ch in " -" else " " for ch in self.text)
        return self.opt_out and " ".join(core.split()).upper() in KEYWORDS


def load_labelled(path: Path = LABELLED) -> list[Reply]:
    with path.open(encoding="utf-8", newline="") as file:
        return [
            Reply(row["text"], row["status"], row["opt_out"] == "true", row["intent"], number % HELD_OUT_EVERY == 0)
            for number, row in enumerate(csv.DictReader(file), start=1)
        ]


@dataclass(frozen=True)
class Score:
    caught: int
    of: int

    @property
    def share(self) -> float:
        return self.caught / self.of if self.of else 0.0

    def __str__(self) -> str:
        return f"{self.share:.1%} ({self.caught}/{self.of})"


def scores(replies: list[Reply]) -> dict[str, Score]:
    """The goals' measures: keywords and phrases caught, false opt-outs, status and intent accuracy."""
    from sophie.classify import classify

    results = [(reply, classify(reply.text)) for reply in replies]
    keywords = [got.opt_out for reply, got in results if reply.is_keyword]
    phrases = [got.opt_out for reply, got in results if reply.opt_out and not reply.is_keyword]
    others = [got.opt_out for reply, got in results if not reply.opt_out]
    return {
        "keywords": Score(sum(keywords), len(keywords)),
        "phrases": Score(sum(phrases), len(phrases)),
        "false_opt_outs": Score(sum(others), len(others)),
        "status": Score(sum(got.status == reply.status for reply, got in results), len(results)),
        "intent": Score(sum(got.intent == reply.intent for reply, got in results), len(results)),
    }


def meets(name: str, score: Score) -> bool:
    goal = GOALS[name]
    return score.share <= goal if name == "false_opt_outs" else score.share >= goal


SCORE_ROWS = (
    ("keywords", "explicit keywords caught", "100%"),
    ("phrases", "opt-out phrases caught", "≥ 95%"),
    ("false_opt_outs", "false opt-outs among other replies", "≤ 2%"),
    ("status", "status accuracy", "≥ 85%"),
    ("intent", "intent accuracy (no goal)", "-"),
)


def scores_table(replies: list[Reply]) -> str:
    parts = {
        "all": scores(replies),
        "tuning": scores([reply for reply in replies if not reply.held_out]),
        "held out": scores([reply for reply in replies if reply.held_out]),
    }
    lines = ["| measure | all | tuning | held out | goal |", "|---|---|---|---|---|"]
    for key, label, goal in SCORE_ROWS:
        cells = []
        for part in parts.values():
            mark = "" if key not in GOALS else (" ✓" if meets(key, part[key]) else " ✗")
            cells.append(f"{part[key]}{mark}")
        lines.append(f"| {label} | {' | '.join(cells)} | {goal} |")
    return "\n".join(lines)


def misses(replies: list[Reply]) -> str:
    """The held-out rows the rules got wrong, so a reader sees what kind of reply slips through."""
    from sophie.classify import classify

    wrong = []
    for reply in replies:
        got = classify(reply.text)
        if reply.held_out and (got.status, got.opt_out) != (reply.status, reply.opt_out):
            wrong.append(f"- `{reply.text}`: labelled {reply.status}/{reply.intent}, got {got.status}/{got.intent}")
    return "\n".join(wrong) or "- none"


def corpus(replies: list[Reply], count: int) -> list[str]:
    """`count` replies cycled from the labelled texts, each a little different so no cache can help."""
    texts = [reply.text for reply in replies]
    return [f"{texts[i % len(texts)]}{' ' * (i // len(texts) % 3)}" for i in range(count)]


def time_classify(texts: list[str], runs: int) -> tuple[list[float], list[float]]:
    from sophie.classify import classify

    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        for text in texts:
            classify(text)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return walls, cpus


def time_command(texts: list[str], runs: int) -> tuple[list[float], list[float]]:
    """`manage.py classify_replies FILE` end to end (interpreter and Django start-up included)."""
    with tempfile.TemporaryDirectory(prefix="dbr-bench-classify-") as folder:
        path = Path(folder) / "replies.txt"
        path.write_text("".join(f"{text}\n" for text in texts), encoding="utf-8")
        # A closed port: the command must not need the database.
        env = {**os.environ, "DATABASE_URL": "postgres://postgres@127.0.0.1:9/none"}
        walls, cpus = [], []
        for _ in range(runs):
            start, cpu = time.perf_counter(), _children_cpu()
            done = subprocess.run(
                [sys.executable, "manage.py", "classify_replies", str(path)],
                cwd=REPO, env=env, capture_output=True, check=True,
            )  # fmt: skip
            walls.append(time.perf_counter() - start)
            cpus.append(_children_cpu() - cpu)
            lines = done.stdout.count(b"\n")
            if lines != len(texts):
                raise SystemExit(f"classify_replies printed {lines} lines for {len(texts)} replies")
    return walls, cpus


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def rate_row(name: str, count: int, walls: list[float], note: str = "") -> str:
    rate = count / median(walls)
    verdict = "✓" if rate >= GOAL_RATE else "✗"
    spread = f"{min(walls):.2f}–{max(walls):.2f} s"
    return f"| {name} | {count:,} | {median(walls):.2f} s ({spread}) | {rate:,.0f} /s {verdict} | {note} |"


def throughput_table(replies: list[Reply], count: int, runs: int) -> str:
    texts = corpus(replies, count)
    log(f"timing classify over {count:,} replies, {runs} run(s)")
    walls, cpus = time_classify(texts, runs)
    log(f"timing manage.py classify_replies over {count:,} lines, {runs} run(s)")
    command, command_cpus = time_command(texts, runs)
    return "\n".join(
        [
            f"| benchmark (one core; goal ≥ {GOAL_RATE:,} replies/s) | replies | median (min–max) | rate | notes |",
            "|---|---|---|---|---|",
            rate_row("`classify()` in process", count, walls, f"on CPU time: {count / median(cpus):,.0f} /s"),
            rate_row(
                "`manage.py classify_replies FILE`",
                count,
                command,
                f"start-up and JSON output included; on CPU time: {count / median(command_cpus):,.0f} /s",
            ),
        ]
    )


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/classify", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"smoke run: {QUICK_REPLIES:,} replies, 1 run")
    parser.add_argument("--runs", type=int, help="timed runs of each (default 3; 1 with --quick)")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    count = QUICK_REPLIES if args.quick else REPLIES
    runs = args.runs or (1 if args.quick else 3)
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, inherited by the command's process
    load_at_start = os.getloadavg()[0]
    replies = load_labelled()
    held_out = sum(reply.held_out for reply in replies)
    log(f"scoring {len(replies)} labelled replies ({held_out} held out)")
    score_text = scores_table(replies)
    rates = throughput_table(replies, count, runs)
    header = (
        f"# bench/classify — {time.strftime('%Y-%m-%d %H:%M %Z')}\n\n"
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs, pinned to one; "
        f"load average {load_at_start:.2f} at the start, {os.getloadavg()[0]:.2f} at the end.\n"
        f"Labelled replies: {len(replies)} ({len(replies) - held_out} tuning, {held_out} held out: every "
        f"{HELD_OUT_EVERY}th row).\n"
    )
    text = f"{header}\n{score_text}\n\n{rates}\n\nHeld-out rows the rules got wrong:\n{misses(replies)}\n"
    publish(text, RESULTS_FILE)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
