"""What a run reports of itself while it works, and how long each phase took.

On a terminal, one status line that is rewritten in place (the phase, and within it the service, cluster or
notebook at work). Anywhere else (CI logs, cron mail), one line per phase when it ends. `quiet` prints nothing;
the timings are recorded either way (run.json keeps them, `--timings` prints them as a table).
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

PREFIX = "eksaudit: "
_PHASE_LINE = re.compile(r"eksaudit: [a-z ]+ done in \d+\.\d s")


def is_progress(line: str) -> bool:
    """A phase line of a run whose stderr is not a terminal (logs keep them; a reader of errors skips them)."""
    return _PHASE_LINE.fullmatch(line) is not None


def process_age() -> float | None:
    """Seconds since this process started, from /proc (Linux); None where that cannot be read."""
    try:
        stat = Path("/proc/self/stat").read_text()
        started = int(stat[stat.rindex(")") + 2:].split()[19]) / os.sysconf("SC_CLK_TCK")
        return max(0.0, float(Path("/proc/uptime").read_text().split()[0]) - started)
    except (OSError, ValueError, IndexError, AttributeError):
        return None


class Progress:
    def __init__(self, stream: TextIO | None = None, quiet: bool = False, live: bool | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.quiet = quiet
        self.live = (not quiet) and (_is_terminal(self.stream) if live is None else live)
        self.timings: list[dict] = []  # {"phase", "seconds"} in the order phases ended
        self._lock = threading.Lock()
        self._current = ""
        self._shown = False

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Time a phase; its line is printed when it ends (not when it fails: the error says enough)."""
        started = time.perf_counter()
        self._current = name
        self.update("")
        yield
        seconds = time.perf_counter() - started
        self.record(name, seconds)
        self._current = ""
        if not self.quiet:
            self._line(f"{name} done in {seconds:.1f} s", final=True)  # is_progress matches it

    def record(self, name: str, seconds: float) -> None:
        """A timing measured elsewhere (a notebook in its own thread, the process start)."""
        with self._lock:
            self.timings.append({"phase": name, "seconds": round(seconds, 3)})

    def update(self, detail: str) -> None:
        """What the current phase is doing now: shown on a terminal only."""
        if self.live:
            self._line(f"{self._current}: {detail}" if detail else f"{self._current}...", final=False)

    def say(self, line: str) -> None:
        """A message of the run's own (a warning): on its own line, even between status updates."""
        with self._lock:
            if self._shown:
                self.stream.write("\r\033[K")
                self._shown = False
            print(line, file=self.stream, flush=True)

    def close(self) -> None:
        with self._lock:
            if self._shown:
                self.stream.write("\r\033[K")
                self.stream.flush()
                self._shown = False

    def _line(self, text: str, final: bool) -> None:
        with self._lock:
            if self.live:
                self.stream.write(f"\r\033[K{PREFIX}{text}" + ("\n" if final else ""))
                self._shown = not final
            elif final:
                self.stream.write(f"{PREFIX}{text}\n")
            self.stream.flush()

    def table(self) -> str:
        """The phase table `--timings` prints: each phase, its seconds and share of the total."""
        total = sum(t["seconds"] for t in self.timings if not t["phase"].startswith("  "))
        width = max([len(t["phase"]) for t in self.timings] + [5])
        rows = [f"{'phase':<{width}}  seconds  share"]
        for t in self.timings:  # a sub-phase (indented) is part of the phase after it: no share of its own
            share = "" if t["phase"].startswith("  ") else f"{100 * t['seconds'] / (total or 1.0):4.0f}%"
            rows.append(f"{t['phase']:<{width}}  {t['seconds']:7.2f}  {share}")
        rows.append(f"{'total':<{width}}  {total:7.2f}")
        return "\n".join(rows)


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False

