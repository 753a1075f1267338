"""Interleaved A/B of the eq-factored sumcheck rounds (`zklora.zkcore.sumcheck.prove`'s
``eq`` hint, `EQ_ROUNDS`) on a bench shape's real sumchecks (not a test).

    flock /tmp/heavy.lock python tests/bench/h4_eq_ab.py [SIZE] [--min-vars K]

Proves one training step of ``zklora bench``'s SIZE (default 25m; ZK off, fast profile)
twice in this process (the first warms the kernels); during the second, every
`sumcheck.prove` call given an ``eq`` hint with at least K variables (default 1) is first
proven twice more on fresh transcripts (same tables, terms, claim): with `EQ_ROUNDS` off
(the plain generic rounds, the prover before) and on, the order alternating call by
call, each timed (process CPU and wall), their proof bytes asserted equal.  Prints the
totals per (variables, tables, degree, terms) shape and the on/off ratios.
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("size", nargs="?", default="25m")
    ap.add_argument("--min-vars", type=int, default=1)
    a = ap.parse_args(argv)
    from zklora.zkcore import bench, pyapi
    from zklora.zkcore import sumcheck as SC
    from zklora.zkcore.transcript import ProverChannel, Transcript

    prove = SC.prove
    tot = collections.defaultdict(lambda: [0, 0.0, 0.0, 0.0, 0.0])
    flip = [0]

    def timed(on, F, tables, terms, claim, kw):
        SC.EQ_ROUNDS = on
        ch = ProverChannel(Transcript("h4-eq"))
        kw = {k: v for k, v in kw.items() if k in ("label", "public", "eq")}
        t, c = time.perf_counter(), time.process_time()
        prove(ch, F, list(tables), terms, claim, **kw)
        c, t = time.process_time() - c, time.perf_counter() - t
        SC.EQ_ROUNDS = True
        return ch.proof_bytes(), c, t

    def wrapped(ch, F, tables, terms, claim, **kw):
        n = int(np.asarray(tables[0]).shape[0]).bit_length() - 1
        if kw.get("eq") is not None and kw.get("mask") is None and n >= a.min_vars:
            key = (n, len(tables), max(len(fs) for _, fs in terms), len(terms))
            tabs = list(tables)
            order = (False, True) if flip[0] % 2 == 0 else (True, False)
            flip[0] += 1
            res = {on: timed(on, F, tabs, terms, claim, kw) for on in order}
            if res[False][0] != res[True][0]:
                raise AssertionError(f"{kw.get('label')}: proof bytes differ off/on")
            s = tot[key]
            s[0] += 1
            s[1] += res[False][1]
            s[2] += res[True][1]
            s[3] += res[False][2]
            s[4] += res[True][2]
        return prove(ch, F, tables, terms, claim, **kw)

    batch, seq = bench.batch_seq(a.size, None, None)
    with tempfile.TemporaryDirectory(prefix="h4eq-") as tmp:
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
        pyapi.prove(**kw)     # warm: kernels loaded
        SC.prove = wrapped
        try:
            pyapi.prove(**kw)
        finally:
            SC.prove = prove
    print(f"{'shape (vars, tables, degree, terms)':38s} {'calls':>5s} {'off cpu s':>9s} "
          f"{'on cpu s':>9s} {'ratio':>6s}")
    for key, s in sorted(tot.items(), key=lambda kv: -kv[1][1])[:30]:
        print(f"{str(key):38s} {s[0]:5d} {s[1]:9.3f} {s[2]:9.3f} {s[2] / max(s[1], 1e-9):6.3f}")
    co = sum(s[1] for s in tot.values())
    cn = sum(s[2] for s in tot.values())
    wo = sum(s[3] for s in tot.values())
    wn = sum(s[4] for s in tot.values())
    print(f"all {sum(s[0] for s in tot.values())} calls: CPU off {co:.3f} s on {cn:.3f} s "
          f"(on/off {cn / co:.3f}); wall off {wo:.3f} s on {wn:.3f} s "
          f"(on/off {wn / wo:.3f}); proof bytes equal call by call", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
