"""CPU time of every process on this machine, grouped by what it is, over one phase of the bench.

The held load shares two cores between the app, nginx, PostgreSQL, Redis and the load generator
itself: a latency figure means little without knowing who had the cores.
"""

import os

TICKS = os.sysconf("SC_CLK_TCK")


def _group(pid: int, comm: str, me: int) -> str:
    if pid == me:
        return "load_generator"
    if comm.startswith("gunicorn"):
        return "app (gunicorn)"
    if comm.startswith("postgres"):
        return "postgresql"
    if comm.startswith("redis"):
        return "redis"
    if comm.startswith("nginx"):
        return "nginx"
    return "other"


def snapshot() -> dict[str, float]:
    """Seconds of CPU (user + system) each group has used so far, by /proc, with its reaped
    children's: a gunicorn worker that restarts (`max_requests`) counts on in its master's
    `cutime`, where a sum over the living alone lost all of it."""
    me = os.getpid()
    used: dict[str, float] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", encoding="ascii", errors="replace") as stat:
                text = stat.read()
        except OSError:  # gone since the listing
            continue
        comm = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 2 :].split()
        seconds = sum(int(f) for f in fields[11:15]) / TICKS  # utime, stime, cutime, cstime
        group = _group(int(name), comm, me)
        used[group] = used.get(group, 0.0) + seconds
    return used


def cores_used(before: dict[str, float], after: dict[str, float], seconds: float) -> dict:
    """Cores each group kept busy in between (processes started in between count in full)."""
    return {
        group: round((after[group] - before.get(group, 0.0)) / seconds, 2)
        for group in sorted(after, key=lambda g: before.get(g, 0.0) - after[g])
        if after[group] - before.get(group, 0.0) > 0.01 * seconds
    }
