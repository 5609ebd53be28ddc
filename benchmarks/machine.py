"""A reference workload: how fast this machine runs plain Python, to compare runs made on
different machines.

The machine a session gets is drawn from a shared pool, and two draws can differ by more
than the change being measured (session 13's ran the same code 2.3 times slower than session
12's). Each benchmark reports this figure with its own, so a table can be read against the
machine it was made on: divide a time by the reference to compare it with another machine's.

The workload is the interpreter's own work, of the kind the engine does: dict look-ups, small
tuples as keys, calls of small functions, string formatting. No I/O, no library code.
"""

from __future__ import annotations

import platform
import statistics
import sys
import time


def _step(d: dict[str, int], keys: tuple[str, ...], i: int) -> tuple[int, ...]:
    return tuple(d.get(k, i) for k in keys)


def _work() -> int:
    d = {f"fact_{i}": i for i in range(64)}
    keys = tuple(f"fact_{i}" for i in range(0, 96, 3))
    memo: dict[tuple[int, ...], str] = {}
    n = 0
    for i in range(20_000):
        key = _step(d, keys, i % 50)
        hit = memo.get(key)
        if hit is None:
            hit = memo[key] = f"{key[0]}:{len(key)}"
        n += len(hit)
    return n


def interpreter() -> str:
    """Which Python runs the benchmark, and how it was built where that shows: the same machine
    runs the engine about 1.1-1.2 times faster on Debian's ``/usr/bin/python3.11`` (built with
    profile-guided optimisation and link-time optimisation, the interpreter linked into the
    executable) than on the machine's pyenv build (``--enable-shared``, no profile-guided
    optimisation: every call into the interpreter goes through ``libpython``'s shared
    library; docs/benchmarks.md, session 17). The reference workload runs on the same
    interpreter, so it moves with it too: compare references made on the same build."""
    shared = "unknown"
    try:
        with open("/proc/self/maps") as maps:  # Linux: is libpython a shared library here?
            shared = "yes" if any("libpython" in line for line in maps) else "no"
    except OSError:
        pass
    return (
        f"{platform.python_implementation()} {platform.python_version()} ({sys.executable}; "
        f"libpython shared: {shared}; built {platform.python_build()[1]})"
    )


def reference_runs(repeat: int = 41) -> list[float]:
    """The wall time of each of ``repeat`` runs of the reference workload, in ms, after one
    run of warm-up. About 2 s on a machine of ~50 ms: the machines here change speed from second
    to second (session 14 saw 39-72 ms within 25 s, and a first reading of a process at 87 ms
    followed by 48), so a handful of runs could catch one slow or fast moment."""
    _work()  # warm-up
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        _work()
        times.append((time.perf_counter() - t0) * 1000)
    return times


def reference_ms(repeat: int = 41) -> float:
    """Median wall time of the reference workload, in ms (lower: a faster machine)."""
    return round(statistics.median(reference_runs(repeat)), 1)


if __name__ == "__main__":
    print(f"interpreter: {interpreter()}")
    runs = sorted(reference_runs())
    tenth = len(runs) // 10
    print(
        f"reference workload: {statistics.median(runs):.1f} ms "
        f"(middle 80 % of {len(runs)} runs: {runs[tenth]:.1f}-{runs[-1 - tenth]:.1f} ms)"
    )
