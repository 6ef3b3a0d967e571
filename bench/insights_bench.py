"""bench/insights: the cost of the quality checks Sophie's texts get after each send (docs/learning.md).

    bench/insights [--quick]

Times `sophie.insights.rules.rules_check` + `rules_score` (every rule, the platform's default lessons loaded
as the agent loads them) over varied texts, pinned to one core. The database part of a check (one message,
its thread, one UPDATE, an insight per finding) is not timed here: it runs in a worker, off the send path.
Needs no database, Redis or network. Writes bench/results/insights.md.
"""

import argparse
import os
import platform
import sys
import time
from pathlib import Path
from statistics import median

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dbr.settings")
django.setup()

from bench.log import log  # noqa: E402
from bench.report import publish  # noqa: E402
from sophie.defaults import DEFAULT_LESSONS  # noqa: E402
from sophie.insights.rules import MessageFacts, rules_check, rules_score  # noqa: E402
from sophie.llm.base import AgentContext, LeadFacts, LessonView  # noqa: E402

RESULTS_FILE = Path(__file__).resolve().parent / "results" / "insights.md"
TEXTS = (
    "Great, Sam. What day suits you for a quick call with the team?",
    "Don't miss out, you need to book before it's too late.",
    "A typical 4kW system costs around £7,000 and finance options are available.",
    "Brilliant, pick a time here: https://cal.com/alpha/call",
    "Thanks for letting me know, I'll close your file. Have a good day.",
    "Hi Sam, it's Sophie at Alpha Solar. Is solar still on your list? 😀",
)
LEAD_TEXTS = (("yes please",), ("who is this?",), ("how much is it?",), ("ok",))


def _facts(n: int, lessons) -> MessageFacts:
    text, said = TEXTS[n % len(TEXTS)], LEAD_TEXTS[n % len(LEAD_TEXTS)]
    context = AgentContext(
        prompt="", sections={}, lessons=lessons, thread=(), new_texts=said,
        lead=LeadFacts(first_name="Sam", status="HOT"), company_name="Alpha Solar", agent_name="Sophie",
        booking_link="https://cal.com/alpha/call",
    )  # fmt: skip
    earlier = (TEXTS[(n + 1) % len(TEXTS)], f"Hi Sam, still keen on solar? Reply STOP to opt out. ({n})")
    return MessageFacts(f"{text} ({n})", "reply", "HOT", said, earlier, context)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench/insights", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2,000 texts, 1 run (default 20,000, 3 runs)")
    args = parser.parse_args(argv)
    count, runs = (2_000, 1) if args.quick else (20_000, 3)
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    load = os.getloadavg()[0]
    lessons = tuple(
        LessonView(id=str(n), lesson_type=spec["lesson_type"], title=spec["title"],
                   description=spec.get("description") or "", trigger=spec.get("trigger") or "",
                   tags=tuple(spec.get("tags") or ()))
        for n, spec in enumerate(DEFAULT_LESSONS)
    )  # fmt: skip
    facts = [_facts(n, lessons) for n in range(count)]
    times, found = [], 0
    for run in range(runs):
        start = time.perf_counter()
        found = sum(len(rules_check(f)) for f in facts)
        for f in facts[:100]:
            rules_score(rules_check(f))
        times.append(time.perf_counter() - start)
        log(f"run {run + 1}: {times[-1]:.2f} s")
    per, rate = median(times) / count * 1e6, count / median(times)
    text = (
        f"# bench/insights — {time.strftime('%Y-%m-%d %H:%M %Z')}\n\n"
        f"Python {platform.python_version()}, pinned to one core; load average {load:.2f} at the start, "
        f"{os.getloadavg()[0]:.2f} at the end. {len(lessons)} default lessons.\n\n"
        f"| what | N | median | per text | texts/s |\n| --- | --- | --- | --- | --- |\n"
        f"| rules_check (9 rules) | {count:,} | {median(times):.2f} s | {per:.0f} µs | {rate:,.0f} |\n\n"
        f"Findings over the texts: {found:,}.\n"
    )
    publish(text, RESULTS_FILE)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
