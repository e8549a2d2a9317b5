"""Machine load around each section of bench/compare.py.

The benchmark machine is shared (other engineers' builds run on it), so a wall time measured
while something else used the cores says little. Every section therefore
- waits (bounded) for the machine to be quiet before it starts,
- records `uptime` before and after, and the CPU that *other* processes used during it
  (machine-wide busy time from /proc/stat minus the CPU of this script and everything it
  started), in cores,
- and is re-run when others used more than the allowed share, keeping the quietest attempt.
Standard library only.
"""

import os
import subprocess
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


def uptime():
    """`uptime`'s line, as a person would read it on this machine."""
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        with open("/proc/loadavg") as f:
            return "load average: " + ", ".join(f.read().split()[:3])


def busy_seconds():
    """CPU seconds the whole machine spent busy since boot (all cores; /proc/stat)."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal [guest guest_nice: already in user/nice]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / CLK_TCK


def own_seconds():
    """CPU seconds of this script and its waited-for children."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


class Sections:
    """Runs sections with load control and keeps a log of every attempt.

    `orphan_cpu` is a hook for processes this script started that nobody waits for (PySpark's
    JVM is started by the Python driver, which exits without reaping it): a section's function
    may add their CPU seconds there so they do not count as someone else's load."""

    def __init__(self, max_foreign=0.3, retries=1, max_wait=20.0):
        self.max_foreign, self.retries, self.max_wait = max_foreign, retries, max_wait
        self.log = []  # (section, attempt, uptime before, uptime after, foreign cores, kept)
        self.orphan_cpu = 0.0

    def wait_quiet(self):
        """Waits until other processes use at most `max_foreign` cores over a 5 s window
        (nothing of ours runs between sections, so all busy time is someone else's), for at
        most `max_wait` seconds; returns the last window's foreign load."""
        deadline = time.monotonic() + self.max_wait
        while True:
            b0, o0, t0 = busy_seconds(), own_seconds(), time.monotonic()
            time.sleep(5)
            foreign = max(0.0, (busy_seconds() - b0) - (own_seconds() - o0)) / (time.monotonic() - t0)
            if foreign <= self.max_foreign or time.monotonic() > deadline:
                return foreign
            print(f"  [load] waiting for a quiet machine: others use {foreign:.2f} cores; {uptime()}", flush=True)

    def run(self, name, fn, ok=lambda result: True):
        """fn() once, or again (up to `retries` times) while others' load during it was high;
        returns the result of the attempt with the least foreign load among those `ok` accepts
        (a failed attempt never displaces a good one)."""
        best = None
        for attempt in range(1, self.retries + 2):
            self.wait_quiet()
            before = uptime()
            self.orphan_cpu = 0.0
            b0, o0, t0 = busy_seconds(), own_seconds(), time.monotonic()
            result = fn()
            wall = time.monotonic() - t0
            own = own_seconds() - o0 + self.orphan_cpu
            foreign = max(0.0, (busy_seconds() - b0) - own) / max(wall, 1e-3)
            after = uptime()
            entry = [name, attempt, before, after, foreign, False]
            self.log.append(entry)
            print(
                f"  [load] {name} attempt {attempt}: others used {foreign:.2f} cores over {wall:.0f} s;"
                f" before: {load_part(before)}; after: {load_part(after)}",
                flush=True,
            )
            good = ok(result)
            if best is None or (good, -foreign) > (best[2], -best[0][4]):
                best = (entry, result, good)
            if foreign <= self.max_foreign:
                break
            if attempt <= self.retries:
                print(f"  [load] {name}: load was high (> {self.max_foreign} cores), running it again", flush=True)
        best[0][5] = True
        return best[1]

    def markdown(self):
        """The log as a markdown list for BENCHMARKS.md."""
        lines = [
            f"Machine load per section (`uptime` before → after; *others* = cores used by other"
            f" processes during the section; a section is re-run when others used more than"
            f" {self.max_foreign} cores, the quietest attempt is kept):\n"
        ]
        for name, attempt, before, after, foreign, kept in self.log:
            mark = "kept" if kept else "discarded"
            lines.append(
                f"- {name}, attempt {attempt} ({mark}): {load_part(before)} → {load_part(after)};"
                f" others {foreign:.2f} cores"
            )
        return "\n".join(lines) + "\n"


def load_part(line):
    """The 'load average: a, b, c' part of an uptime line."""
    i = line.find("load average")
    return line[i:] if i >= 0 else line
