"""The test bed's servers as processes, to count the CPU a workload made them spend."""

from __future__ import annotations

from pathlib import Path

# What each server's main process has in its command line (a database's backends are its
# children, counted with it).
_COMMANDS = {
    "postgres": ("bin/postgres", "-D"),
    "mariadb": ("mariadbd",),
    "redis": ("redis-server",),
    "ferretdb": ("ferretdb", "--handler"),
    "kafka": ("java", "kafka.Kafka"),
    "elasticsearch": ("java", "QuckchatEsNode"),
}


def store_pids(stores: tuple[str, ...]) -> list[int]:
    """The main process of each of the named servers that runs now."""
    wanted = [_COMMANDS[store] for store in stores]
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            words = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        line = b" ".join(words).decode(errors="replace")
        first = words[0].decode(errors="replace")
        for parts in wanted:
            if parts[0] in first and all(part in line for part in parts[1:]):
                found.append(int(entry.name))
    return found
