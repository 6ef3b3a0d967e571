"""Linux /proc helpers shared by the benchmarks."""

import threading


def process_tree(pid: int) -> list[int]:
    """`pid` and all its descendants (gone processes are skipped)."""
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        try:
            with open(f"/proc/{current}/task/{current}/children") as children:
                todo += [int(child) for child in children.read().split()]
        except OSError:
            pass
    return pids


class Sampler:
    """Calls `sample()` every `interval` seconds in a thread for the length of a `with` block."""

    interval = 0.25

    def __init__(self):
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while True:
            self.sample()
            if self._stop.wait(self.interval):
                return

    def sample(self) -> None:
        raise NotImplementedError
