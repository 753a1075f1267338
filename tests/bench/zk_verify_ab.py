"""Warm verify A/B of the tiny training step, ZK on and off: an old tree against this one.

    git worktree add /tmp/old <rev>
    flock /tmp/heavy.lock python tests/bench/zk_verify_ab.py /tmp/old [REPS] [--reuse]

This tree proves the tiny step of ``tests/bench/zk_compare.py`` once with zero knowledge
off and once on (fast profile, the scheme it proves with in zero knowledge) and writes
the proofs to a file; one warm verifier process per tree (``PYTHONPATH`` = the tree, so
its kernel, plugins and kernels are imported) loads them and verifies each once
(warm-up), then ``REPS`` rounds of (off, on) verifications, the two trees alternating.
The same proof bytes are verified by both trees (``gc_*``: the time each verification
spent in the cyclic garbage collector).  Prints per-round times, the medians,
the on/off ratio per tree and the new/old ratio per mode.
"""

from __future__ import annotations

import gc
import json
import os
import pickle
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[2]
PROOFS = Path(os.environ.get("ZK_VERIFY_AB_PROOFS", "/tmp/zk_verify_ab.pkl"))
#: ``--reuse``: verify the proofs already in `PROOFS` (made by an earlier run or by
#: `tests/bench/zk_verify_profile.py`) instead of proving again
REUSE = "--reuse" in sys.argv
#: ``ZK_VERIFY_AB_CPU=1``: the process's CPU time (all threads) instead of wall time —
#: steadier on a machine shared with other jobs
CPU = os.environ.get("ZK_VERIFY_AB_CPU", "0") == "1"


def _setup():
    import attrs

    from tests.bench.test_bench_train import _setup as setup
    from zklora.zkcore.config import PROFILES, ZK_COMMITMENT, resolve
    from zklora.zkcore.plugins import registry

    stack = PROFILES["fast"]
    be = resolve(attrs.evolve(stack, commitment=ZK_COMMITMENT.get("fast", stack.commitment)),
                 registry())
    _, _, _, _, g, inputs, statement = setup()
    return g, inputs, statement, be


def make() -> None:
    """Prove once each way and store (stream, sections) per mode."""
    from zklora.zkcore import graph as graphlib
    from zklora.zkcore import zk

    g, inputs, statement, be = _setup()
    made = {}
    for on in (False, True):
        with zk.session(on):
            made[on] = graphlib.prove(g, inputs, be, statement)
    PROOFS.write_bytes(pickle.dumps(made))
    print(json.dumps({on: len(made[on][0]) for on in made}), flush=True)


def serve() -> None:
    """Verify the stored proofs: one warm-up each, then one (off, on) pair per line."""
    from zklora.zkcore import graph as graphlib
    from zklora.zkcore import zk

    g, _, statement, be = _setup()
    made = pickle.loads(PROOFS.read_bytes())

    spent = [0.0, 0.0]   # time in the cyclic GC (total, start of the current pass)

    def watch(phase, info):
        if phase == "start":
            spent[1] = time.perf_counter()
        else:
            spent[0] += time.perf_counter() - spent[1]

    gc.callbacks.append(watch)

    def verify(on: bool) -> tuple[float, float]:
        with zk.session(on):
            spent[0] = 0.0
            t = time.perf_counter()
            c = time.process_time()
            graphlib.verify(g, made[on][0], be, statement, made[on][1])
            if CPU:
                return time.process_time() - c, spent[0]
            return time.perf_counter() - t, spent[0]

    for on in (False, True):
        verify(on)
    print(json.dumps({"ready": graphlib.__file__}), flush=True)
    for _ in sys.stdin:
        (off, goff), (on, gon) = verify(False), verify(True)
        print(json.dumps({"off": off, "on": on, "gc_off": goff, "gc_on": gon}), flush=True)


def main(old: str, reps: int) -> None:
    env = dict(os.environ, PYTHONPATH=str(HERE))
    if not (REUSE and PROOFS.exists()):
        subprocess.run([sys.executable, __file__, "--make"], env=env, check=True, cwd="/tmp")
    trees = {"old": str(Path(old).resolve()), "new": str(HERE)}
    procs = {}
    for name, tree in trees.items():
        env = dict(os.environ, PYTHONPATH=tree)
        procs[name] = subprocess.Popen([sys.executable, __file__, "--serve"], env=env,
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                       text=True, cwd="/tmp")
    for name, p in procs.items():
        print(name, p.stdout.readline().strip(), flush=True)
    res: dict[str, list[dict]] = {n: [] for n in procs}
    for r in range(reps):
        for name in (("old", "new") if r % 2 == 0 else ("new", "old")):
            p = procs[name]
            p.stdin.write("go\n")
            p.stdin.flush()
            d = json.loads(p.stdout.readline())
            res[name].append(d)
            print(name, r, json.dumps({k: round(v, 4) for k, v in d.items()}), flush=True)
    for p in procs.values():
        p.stdin.close()
        p.wait()
    med = {n: {m: statistics.median(d[m] for d in rs) for m in ("off", "on")}
           for n, rs in res.items()}
    for n, m in med.items():
        print(f"{n}: median verify off {m['off']:.3f} s, on {m['on']:.3f} s, "
              f"on/off x{m['on'] / m['off']:.3f}")
    print(json.dumps({
        "ratio_on_off": {n: round(m["on"] / m["off"], 3) for n, m in med.items()},
        "new_over_old": {k: round(med["new"][k] / med["old"][k], 3) for k in ("off", "on")},
    }))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--make"]:
        make()
    elif sys.argv[1:2] == ["--serve"]:
        serve()
    else:
        args = [a for a in sys.argv[1:] if a != "--reuse"]
        main(args[0], int(args[1]) if len(args) > 1 else 7)
