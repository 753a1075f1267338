"""Interleaved A/B of `zklora.zkcore.sumcheck` on a bench shape's real phase-2 sumchecks
(not a test): an old tree's ``zklora/zkcore/sumcheck.py`` against this one, in one process.

    git worktree add /tmp/old <rev>
    flock /tmp/heavy.lock python tests/bench/h4_sumcheck_ab.py /tmp/old [SIZE] [--min-vars K]

Proves one training step of ``zklora bench``'s SIZE (default 25m; ZK off, fast profile)
with this tree three times (the first with the old module, the second with the new: the
kernels loaded); during the third, every unmasked `sumcheck.prove` call of at least K
variables (default 1) is first proven twice more on fresh transcripts (same tables, terms
and claim): by the old module and by this one, the order alternating call by call, each
timed (wall and process CPU), and their proof bytes asserted equal.  The old module is
this tree's package with the old file's code (same kernels, same fields).  Prints the
totals per (variables, tables, degree, terms) shape and the new/old ratio of the CPU.
"""

from __future__ import annotations

import collections
import importlib.util
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def _old_module(tree: str):
    path = Path(tree) / "zklora" / "zkcore" / "sumcheck.py"
    spec = importlib.util.spec_from_file_location("zklora.zkcore._sumcheck_old", path)
    mod = importlib.util.module_from_spec(spec)
    mod.__package__ = "zklora.zkcore"
    spec.loader.exec_module(mod)
    return mod


def main(argv=None) -> None:
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("old")
    ap.add_argument("size", nargs="?", default="25m")
    ap.add_argument("--min-vars", type=int, default=1)
    a = ap.parse_args(argv)
    from zklora.zkcore import bench, pyapi
    from zklora.zkcore import sumcheck as SC
    from zklora.zkcore.transcript import ProverChannel, Transcript

    old = _old_module(a.old)
    new_prove = SC.prove
    tot = collections.defaultdict(lambda: [0, 0.0, 0.0, 0.0, 0.0])   # calls, cpu/wall old/new
    flip = [0]

    def timed(mod_prove, F, tables, terms, claim, kw):
        ch = ProverChannel(Transcript("h4-ab"))
        kw = {k: v for k, v in kw.items() if k in ("label", "public")}
        t, c = time.perf_counter(), time.process_time()
        mod_prove(ch, F, list(tables) if isinstance(tables, list) else tables, terms, claim,
                  **kw)
        return ch.proof_bytes(), time.process_time() - c, time.perf_counter() - t

    def wrapped(ch, F, tables, terms, claim, **kw):
        t0 = tables[0] if isinstance(tables, np.ndarray) else np.asarray(tables[0])
        n = int(t0.shape[0]).bit_length() - 1
        if kw.get("mask") is None and n >= a.min_vars:
            key = (n, len(tables), max(len(fs) for _, fs in terms), len(terms))
            tabs = list(tables) if not isinstance(tables, np.ndarray) else tables
            order = ("old", "new") if flip[0] % 2 == 0 else ("new", "old")
            flip[0] += 1
            res = {}
            for name in order:
                res[name] = timed(old.prove if name == "old" else new_prove, F, tabs, terms,
                                  claim, kw)
            if res["old"][0] != res["new"][0]:
                raise AssertionError(f"{kw.get('label')}: proof bytes differ old/new")
            s = tot[key]
            s[0] += 1
            s[1] += res["old"][1]
            s[2] += res["new"][1]
            s[3] += res["old"][2]
            s[4] += res["new"][2]
        return new_prove(ch, F, tables, terms, claim, **kw)

    batch, seq = bench.batch_seq(a.size, None, None)
    with tempfile.TemporaryDirectory(prefix="h4ab-") as tmp:
        tmp_p = Path(tmp)
        extra = {}
        if a.size == "tiny":
            model, adapter = "tiny", None
        else:
            shape = bench.SIZES[a.size]
            if "act_bits" in shape:
                extra["act_bits"] = shape["act_bits"]
            m, ad = bench._write_checkpoint(tmp_p, shape)
            model, adapter = str(m), str(ad)
        kw = dict(model=model, adapter=adapter, steps=1, profile="fast", zero_knowledge=False,
                  config={"task": {"model": "llama-train"},
                          "model": {"batch": batch, "seq": seq, **extra}},
                  out=tmp_p / "p.zkp", progress=None)
        warm = (old.prove, new_prove)   # the first calls load the kernels (both modules)
        for mod_prove in warm:
            SC.prove = mod_prove
            pyapi.prove(**kw)
        SC.prove = wrapped
        pyapi.prove(**kw)
    SC.prove = new_prove
    print(f"{'shape (vars, tables, degree, terms)':38s} {'calls':>5s} {'old cpu s':>9s} "
          f"{'new cpu s':>9s} {'ratio':>6s}")
    for key, s in sorted(tot.items(), key=lambda kv: -kv[1][1])[:30]:
        print(f"{str(key):38s} {s[0]:5d} {s[1]:9.3f} {s[2]:9.3f} {s[2] / max(s[1], 1e-9):6.3f}")
    co = sum(s[1] for s in tot.values())
    cn = sum(s[2] for s in tot.values())
    wo = sum(s[3] for s in tot.values())
    wn = sum(s[4] for s in tot.values())
    print(f"all {sum(s[0] for s in tot.values())} calls: CPU old {co:.3f} s new {cn:.3f} s "
          f"(new/old {cn / co:.3f}); wall old {wo:.3f} s new {wn:.3f} s "
          f"(new/old {wn / wo:.3f}); proof bytes equal call by call")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main()
