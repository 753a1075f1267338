"""Progress display, timestamped log lines, per-phase timings and peak memory.

A `Reporter` is handed to `zklora.zkcore.api.prove` as its ``progress`` and
``profile`` callbacks (`zklora.zkcore.graph.Progress` / `Profile`).  It shows:

* on a terminal (stderr is a tty): a rich progress bar per phase with elapsed time and
  an ETA for the phases that advance in steps (forward pass, commitments, op groups);
* otherwise (piped, CI logs): plain timestamped lines on stderr — each phase's start
  and end, and a line with progress and ETA at most every ``log_every`` seconds;
* with ``mode="none"``: nothing, timings are still collected.

It also watches numba: the first kernel compilation of a run (a cache miss, i.e. the
first use on a fresh machine or after an upgrade) prints a one-time notice, and the
time spent compiling is reported.  Only the standard library is imported at module
level; rich and numba are imported when a reporter is entered.
"""

from __future__ import annotations

import resource
import sys
import threading
import time
from typing import IO

#: display names of the phases `api.prove` and `graph.prove` report
PHASE_LABELS = {
    "witness": "integer computation",
    "model-commitment": "base-model commitment",
    "forward": "forward pass",
    "statement-commitments": "statement commitments",
    "commitments": "commitments",
    "prove": "op groups",
    "lookups": "lookups",
    "openings": "openings",
    "write": "writing files",
    "verify": "verifying",
    "read": "reading",
}

COMPILE_NOTICE = ("compiling numba kernels — first use on this machine, this takes about a "
                  "minute once; later runs load them from the cache "
                  "(`zklora warmup` compiles them ahead of time)")


def peak_rss_bytes() -> int:
    """Peak resident memory of this process so far (``ru_maxrss``; Linux reports KiB)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(rss if sys.platform == "darwin" else rss * 1024)


def fmt_seconds(s: float) -> str:
    if s < 60:
        return f"{s:.1f} s"
    m, s = divmod(int(round(s)), 60)
    return f"{m} min {s:02d} s" if m < 60 else f"{m // 60} h {m % 60:02d} min"


def fmt_bytes(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"  # pragma: no cover


def log_line(msg: str, stream: IO[str] | None = None) -> None:
    """One timestamped line (UTC, ISO 8601) on stderr."""
    stream = stream or sys.stderr
    ts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    print(f"{ts} zklora: {msg}", file=stream, flush=True)


class Reporter:
    """Progress over a run's phases; collects per-phase timings (module doc).

    ``mode``: "auto" (a bar on a terminal, log lines otherwise), "bar", "log" or
    "none".  Use as a context manager; pass ``reporter.progress`` and
    ``reporter.profile`` to the prover, or call `phase` for phases of your own.
    """

    def __init__(self, mode: str = "auto", stream: IO[str] | None = None,
                 log_every: float = 5.0):
        self.stream = stream or sys.stderr
        if mode == "auto":
            mode = "bar" if _isatty(self.stream) else "log"
        if mode not in ("bar", "log", "none"):
            raise ValueError(f"progress mode {mode!r}; allowed: auto, bar, log, none")
        self.mode = mode
        self.log_every = log_every
        #: wall time of every phase, in the order they ran
        self.timings: dict[str, float] = {}
        #: time per op kind (from the graph prover's profile callback)
        self.op_timings: dict[str, float] = {}
        #: prover time of every segment of a segmented graph, in segment order
        self.segment_timings: dict[str, float] = {}
        self.compile_seconds = 0.0
        self.compiled = 0
        self._phase: str | None = None
        self._t_phase = 0.0
        self._t_log = 0.0
        self._done_total = (0, 0)
        self._bar = None
        self._task = None
        self._listener = None
        self._compile_depth = 0
        self._compile_t0 = 0.0
        self._noticed = False
        self._compile_at_start = 0.0
        self._beat: threading.Thread | None = None
        self._stop = threading.Event()
        self.t0 = time.perf_counter()

    # -- context --------------------------------------------------------------------------

    def __enter__(self) -> Reporter:
        self.t0 = time.perf_counter()
        if self.mode == "bar":
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._bar = Progress(SpinnerColumn(), TextColumn("{task.description:<24}"),
                                 BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                                 TextColumn("ETA"), TimeRemainingColumn(),
                                 console=Console(file=self.stream), transient=True)
            self._bar.__enter__()
        self._watch_compiles()
        if self.mode == "log":
            self._stop = threading.Event()
            self._beat = threading.Thread(target=self._heartbeat, daemon=True,
                                          name="zklora-progress")
            self._beat.start()
        return self

    def __exit__(self, *exc) -> bool:
        if self._beat is not None:
            self._stop.set()
            self._beat.join(timeout=1)
            self._beat = None
        self._end_phase(ok=exc[0] is None)
        if self._listener is not None:
            from numba.core import event

            event.unregister("numba:compile", self._listener)
            self._listener = None
        if self._bar is not None:
            self._bar.__exit__(*exc)
            self._bar = None
        return False

    # -- callbacks ------------------------------------------------------------------------

    def progress(self, phase: str, i: int, total: int) -> None:
        """`graph.Progress`: item ``i`` (0-based) of ``total`` of ``phase`` starts."""
        if phase != self._phase:
            self._start_phase(phase, total)
        self._done_total = (i, total)
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, completed=i, total=total)
        elif self.mode == "log":
            now = time.perf_counter()
            if now - self._t_log >= self.log_every and i > 0:
                self._t_log = now
                el = now - self._t_phase
                # the rate leaves out kernel compilation (a one-off, not per item)
                work = max(el - (self._compiling_total() - self._compile_at_start), 1e-9)
                eta = work / i * (total - i)
                self._log(f"{self._label(phase)}: {i}/{total} ({100 * i // total}%), "
                          f"{fmt_seconds(el)} elapsed, ETA {fmt_seconds(eta)}")

    def profile(self, kind: str, name: str, seconds: float) -> None:
        """`graph.Profile`: time of a graph-prover phase or of one op node."""
        if kind in PHASE_LABELS or kind == "outputs":
            return  # phases are timed by `progress`/`phase` events
        if kind == "segment":
            self.segment_timings[name] = self.segment_timings.get(name, 0.0) + seconds
            return
        self.op_timings[kind] = self.op_timings.get(kind, 0.0) + seconds

    def phase(self, name: str, total: int = 1) -> None:
        """Start a phase of one's own (ends when the next starts or on exit)."""
        self.progress(name, 0, total)

    def notice(self, msg: str) -> None:
        """A one-off message (above the bar on a terminal)."""
        if self.mode == "none":
            return
        if self._bar is not None:
            self._bar.console.print(f"[yellow]{msg}[/yellow]")
        else:
            self._log(msg)

    def finish(self) -> None:
        """End the current phase (e.g. before printing a report)."""
        self._end_phase(ok=True)

    @property
    def total_seconds(self) -> float:
        return time.perf_counter() - self.t0

    # -- internals ------------------------------------------------------------------------

    def _heartbeat(self) -> None:
        """Log mode: a line every ``4 × log_every`` seconds of a phase that reports no
        progress of its own (lookups, openings, a kernel compilation)."""
        quiet = 4 * self.log_every
        while not self._stop.wait(self.log_every):
            phase, now = self._phase, time.perf_counter()
            if phase is not None and now - self._t_log >= quiet:
                self._t_log = now
                what = "compiling kernels" if self._compile_depth else "still running"
                self._log(f"{self._label(phase)}: {what}, "
                          f"{fmt_seconds(now - self._t_phase)} elapsed")

    def _label(self, phase: str) -> str:
        return PHASE_LABELS.get(phase, phase)

    def _compiling_total(self) -> float:
        """Compile seconds so far, the compilation in progress included."""
        extra = time.perf_counter() - self._compile_t0 if self._compile_depth else 0.0
        return self.compile_seconds + extra

    def _bar_note(self, note: str) -> None:
        if self._bar is not None and self._task is not None and self._phase is not None:
            self._bar.update(self._task, description=self._label(self._phase) + note)

    def _log(self, msg: str) -> None:
        log_line(msg, self.stream)

    def _start_phase(self, phase: str, total: int) -> None:
        self._end_phase(ok=True)
        self._phase = phase
        self._t_phase = self._t_log = time.perf_counter()
        self._compile_at_start = self._compiling_total()
        if self._bar is not None:
            self._task = self._bar.add_task(self._label(phase), total=total)
        elif self.mode == "log":
            self._log(f"{self._label(phase)}: started" + (f" ({total} items)" if total > 1
                                                         else ""))

    def _end_phase(self, ok: bool) -> None:
        if self._phase is None:
            return
        dt = time.perf_counter() - self._t_phase
        self.timings[self._phase] = self.timings.get(self._phase, 0.0) + dt
        if self._bar is not None and self._task is not None:
            _, total = self._done_total
            self._bar.update(self._task, completed=total, total=total)
            self._bar.stop_task(self._task)
            self._bar.remove_task(self._task)
            self._task = None
        elif self.mode == "log" and ok:
            self._log(f"{self._label(self._phase)}: done in {fmt_seconds(dt)}")
        self._phase = None

    def _watch_compiles(self) -> None:
        """Hook numba's compile event (fired only on a cache miss)."""
        if "numba" not in sys.modules:
            try:
                import numba  # noqa: F401  (the prover imports it anyway)
            except ImportError:  # pragma: no cover
                return
        from numba.core import event

        rep = self

        class _Listener(event.Listener):
            def on_start(self, ev):
                if rep._compile_depth == 0:
                    rep._compile_t0 = time.perf_counter()
                    if not rep._noticed:
                        rep._noticed = True
                        rep.notice(COMPILE_NOTICE)
                    rep._bar_note(" (compiling kernels)")
                rep._compile_depth += 1

            def on_end(self, ev):
                rep._compile_depth -= 1
                if rep._compile_depth == 0:
                    rep.compiled += 1
                    rep.compile_seconds += time.perf_counter() - rep._compile_t0
                    rep._bar_note("")

        self._listener = _Listener()
        event.register("numba:compile", self._listener)


def _isatty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def report_lines(timings: dict[str, float], op_timings: dict[str, float] | None = None,
                 peak_rss: int | None = None, proof_bytes: int | None = None,
                 compile_seconds: float = 0.0,
                 segment_timings: dict[str, float] | None = None) -> list[str]:
    """The final report: per-phase time, per-segment time (a segmented proof: the
    critical path is the slowest segment when an executor runs them in parallel), peak
    memory, proof size."""
    lines = ["phase times:"]
    for name, s in timings.items():
        lines.append(f"  {PHASE_LABELS.get(name, name):<24} {s:9.3f} s")
    if op_timings:
        top = sorted(op_timings.items(), key=lambda kv: -kv[1])[:6]
        lines.append("  (op groups by kind: " + ", ".join(f"{k} {v:.2f} s" for k, v in top)
                     + ")")
    if compile_seconds:
        lines.append(f"  (of which numba kernel compilation {compile_seconds:.1f} s)")
    if segment_timings:
        total = sum(segment_timings.values())
        lines.append(f"segment times ({len(segment_timings)} segments, {total:.3f} s in "
                     f"all, slowest {max(segment_timings.values()):.3f} s):")
        for name, s in segment_timings.items():
            lines.append(f"  {name:<24} {s:9.3f} s")
    if peak_rss is not None:
        lines.append(f"peak memory {fmt_bytes(peak_rss)} (ru_maxrss)")
    if proof_bytes is not None:
        lines.append(f"proof size {proof_bytes} bytes ({fmt_bytes(proof_bytes)})")
    return lines


__all__ = ["COMPILE_NOTICE", "PHASE_LABELS", "Reporter", "fmt_bytes", "fmt_seconds",
           "log_line", "peak_rss_bytes", "report_lines"]
