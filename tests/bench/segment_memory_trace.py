"""Where the prover's resident set peaks (issue 14; a benchmark, not a test).

    python tests/bench/segment_memory_trace.py H F N V B T

runs `tests/bench/segment_memory.py` with the same arguments while a thread samples
VmRSS every 10 ms, tagging each sample with the innermost of a few instrumented prover
functions running (phase-1 forward, statement and stack commitments, Ligero commit and
open, WHIR commit and open — inside it the batching head, the first folds and the
rounds —, each segment, the lookups — inside them the trees' construction, a tree layer
brought back, each GKR layer's sumcheck by its size — the stack reduction, the
opening).  Prints the usual JSON line, then one JSON line: per tag (a segment's tag
names it), the largest resident set seen while it ran (MiB), how much of it was
file-backed (the scratch maps), its wall seconds, the tag running at the peak, and the
leaf count of the lookup argument's trees (``lookup_rows``, one entry per argument).
``--rss-limit MIB`` (this script's own option) interrupts the proof once the resident
set passes MIB, still printing the per-tag line (where the memory went until then).
"""

from __future__ import annotations

import _thread
import functools
import json
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

_stack: list[str] = ["other"]
_peak: dict[str, float] = {}
_secs: dict[str, float] = {}
_top = [0.0, ""]


_file: dict[str, float] = {}
_leaves: list[int] = []
_limit = [float("inf")]


def _rss() -> tuple[float, float]:
    """(resident, of which file-backed: scratch maps, libraries), MiB."""
    with open("/proc/self/statm") as f:
        v = f.read().split()
    return int(v[1]) * 4096 / 2**20, int(v[2]) * 4096 / 2**20


def _sampler() -> None:
    while True:
        (r, fb), tag = _rss(), "/".join(_stack[1:]) or "other"
        if r > _peak.get(tag, 0.0):
            _peak[tag] = r
            _file[tag] = fb
        if r > _top[0]:
            _top[:] = [r, tag]
        if r > _limit[0]:
            _limit[0] = float("inf")
            print(f"segment_memory_trace: resident {r:.0f} MiB > --rss-limit, interrupting",
                  file=sys.stderr)
            _thread.interrupt_main()
        time.sleep(0.01)


def _wrap(owner, name: str, tag: str, name_of=None) -> None:
    fn = getattr(owner, name)

    @functools.wraps(fn)
    def inner(*a, **k):
        _stack.append(tag if name_of is None else f"{tag}:{name_of(*a)}")
        t = time.perf_counter()
        try:
            return fn(*a, **k)
        finally:
            _secs[tag] = _secs.get(tag, 0.0) + time.perf_counter() - t
            _stack.pop()

    setattr(owner, name, inner)


def main() -> None:
    import segment_memory

    from zklora.plugins.commitments import ligero, whir
    from zklora.zkcore import api, committer, graph, published, stack

    _wrap(api, "commit_frozen", "model-commit")
    _wrap(graph, "forward", "forward")
    _wrap(published, "commit_groups", "statement-groups")
    _wrap(committer.Committer, "flush", "flush")
    _wrap(committer.Committer, "open", "open")
    _wrap(stack, "reduce_many", "reduce")
    _wrap(graph, "prove_segment", "segment", lambda *a: a[4].id)
    _wrap(graph, "_run_lookups", "lookups")
    from zklora.plugins.lookups import logup_gkr

    # inside the lookup argument (wrapped, not changed): building the trees' upper
    # layers, bringing a dropped layer back (the leaves at the last layer), a layer's
    # sumcheck; the lookup trees' leaf counts are recorded
    _wrap(logup_gkr, "lazy_tree", "tree-build")
    _wrap(logup_gkr.FracTree, "need", "need",
          lambda t, layer, *_: "leaves" if layer >= t.depth - 1 else "upper")
    _wrap(logup_gkr, "_prove_layer", "layer", lambda ctx, label, n, *a: n)
    groups = logup_gkr.lookup_groups

    def lookup_groups(sizes, most):
        _leaves.append(int(sum(sizes)))
        return groups(sizes, most)

    logup_gkr.lookup_groups = lookup_groups
    _wrap(ligero.Ligero, "commit", "ligero.commit")
    _wrap(ligero.Ligero, "open", "ligero.open")
    _wrap(whir.Whir, "commit", "whir.commit")
    _wrap(whir.Whir, "open", "whir.open")
    _wrap(whir.Whir, "_prove_head", "head")
    _wrap(whir.Whir, "_prove_fold", "fold")
    _wrap(whir.Whir, "_prove_chain", "chain")
    argv = sys.argv[1:]
    if "--rss-limit" in argv:
        i = argv.index("--rss-limit")
        _limit[0] = float(argv[i + 1])
        del argv[i:i + 2]
    threading.Thread(target=_sampler, daemon=True).start()
    try:
        segment_memory.main(argv)
    finally:   # also when the proof fails: where the memory went until then
        time.sleep(0.05)
        _report()


def _report() -> None:
    print(json.dumps({"peak_mib": round(_top[0]), "at": _top[1],
                      "by_tag_mib": {k: round(v) for k, v in sorted(_peak.items())},
                      "file_backed_at_tag_peak_mib": {k: round(v)
                                                      for k, v in sorted(_file.items())},
                      "seconds": {k: round(v, 1) for k, v in sorted(_secs.items())},
                      "lookup_rows": _leaves}))


if __name__ == "__main__":
    main()
