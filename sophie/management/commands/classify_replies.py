import io
import json
import sys

from django.core.management.base import BaseCommand

from sophie.classify import classify


class Command(BaseCommand):
    help = (
        "Classifies replies with the offline rules (whatever DBR_LLM_BACKEND says): one reply per input line, "
        "one JSON object per line on stdout. Needs no database."
    )
    # Classifying is pure text work: no system checks, no migration check, no database connection.
    requires_system_checks = []
    requires_migrations_checks = False

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", default="-", help="A text file, one reply per line (default: stdin)")

    def handle(self, *args, file, **options):
        if file == "-":
            lines = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8-sig", errors="replace", newline="\n")
            self._classify_lines(lines)
            return
        with open(file, encoding="utf-8-sig", errors="replace", newline="\n") as lines:
            self._classify_lines(lines)

    def _classify_lines(self, lines) -> None:
        for line in lines:
            text = line.removesuffix("\n").removesuffix("\r")
            self.stdout.write(json.dumps({"text": text, **classify(text).to_dict()}))
