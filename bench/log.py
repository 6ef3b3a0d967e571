"""Progress lines on stderr, with the time since the run started."""

import sys
import time

_START = time.monotonic()


def log(message: str) -> None:
    print(f"[bench {time.monotonic() - _START:5.0f}s] {message}", file=sys.stderr, flush=True)
