"""Linux /proc helpers shared by the benchmarks."""


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
