"""Shapes and times of the einsum base folds (`einsum._vecmat_blocked`) and of the
field's integer conversions (`goldilocks._ints_to_u64`) in one proof of a bench size
(not a test).

    flock /tmp/heavy.lock python tests/bench/s19h4_capture.py [SIZE] [OUT.pkl]

Proves one training step of ``zklora bench``'s SIZE (ZK off, WHIR, as the bench) with
both functions wrapped; prints the totals per (table shape, perm) and per dtype, and
pickles the call list to OUT (shapes only, no tables)."""

from __future__ import annotations

import collections
import pickle
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def main(argv) -> None:
    size = argv[0] if argv else "25m"
    out = argv[1] if len(argv) > 1 else None
    from zklora.plugins.fields import goldilocks as G
    from zklora.zkcore import bench, einsum, pyapi
    from zklora.zkcore import sumcheck as SC

    calls = {"vecmat": [], "ints": [], "sc": []}
    scp = SC.prove

    def sc(ch, F, tables, terms, claim, **kw):
        c = time.perf_counter()
        r = scp(ch, F, tables, terms, claim, **kw)
        n = int(np.asarray(tables[0]).shape[0]).bit_length() - 1 if len(tables) else 0
        lab = re.sub(r"\d+", "#", kw.get("label", "sumcheck"))
        calls["sc"].append((lab, n, len(tables),
                            max((len(fs) for _, fs in terms), default=0), len(terms),
                            kw.get("eq") is not None, time.perf_counter() - c))
        return r
    vb, iu = einsum._vecmat_blocked, G._ints_to_u64

    def vecmat(E, eq, t, perm, first, *nfold):
        c = time.perf_counter()
        r = vb(E, eq, t, perm, first, *nfold)
        calls["vecmat"].append((tuple(t.shape), tuple(perm), bool(first), t.dtype.str,
                                time.perf_counter() - c))
        return r

    def ints(x):
        c = time.perf_counter()
        r = iu(x)
        a = x
        calls["ints"].append((type(a).__name__, str(getattr(a, "dtype", "")),
                              int(np.size(r)), time.perf_counter() - c))
        return r

    einsum._vecmat_blocked, G._ints_to_u64, SC.prove = vecmat, ints, sc
    batch, seq = bench.batch_seq(size, None, None)
    with tempfile.TemporaryDirectory(prefix="s19h4cap-") as tmp:
        tmp_p = Path(tmp)
        extra = {}
        if size == "tiny":
            model, adapter = "tiny", None
        else:
            shape = bench.SIZES[size]
            if "act_bits" in shape:
                extra["act_bits"] = shape["act_bits"]
            m, ad = bench._write_checkpoint(tmp_p, shape)
            model, adapter = str(m), str(ad)
        pyapi.prove(model=model, adapter=adapter, steps=1, zero_knowledge=False,
                    config={"task": {"model": "llama-train"},
                            "model": {"batch": batch, "seq": seq, **extra}},
                    out=tmp_p / "p.zkp", progress=None)
    agg = collections.defaultdict(lambda: [0, 0.0])
    for shp, perm, first, dt, t in calls["vecmat"]:
        s = agg[(shp, perm, first, dt)]
        s[0] += 1
        s[1] += t
    print("vecmat_blocked: shape perm first dtype: calls seconds")
    for k, s in sorted(agg.items(), key=lambda kv: -kv[1][1])[:40]:
        print(f"  {k}: {s[0]} {s[1]:.4f}")
    print(f"  total {len(calls['vecmat'])} calls {sum(c[-1] for c in calls['vecmat']):.3f} s")
    agg = collections.defaultdict(lambda: [0, 0, 0.0])
    for ty, dt, n, t in calls["ints"]:
        s = agg[(ty, dt, n >= 1 << 14)]
        s[0] += 1
        s[1] += n
        s[2] += t
    print("ints_to_u64: type dtype large: calls elements seconds")
    for k, s in sorted(agg.items(), key=lambda kv: -kv[1][2]):
        print(f"  {k}: {s[0]} {s[1]} {s[2]:.4f}")
    agg = collections.defaultdict(lambda: [0, 0.0])
    for lab, n, nt, d, nterms, eq, t in calls["sc"]:
        s = agg[(lab, n, nt, d, nterms, eq)]
        s[0] += 1
        s[1] += t
    print("sumcheck.prove: (label tail, vars, tables, degree, terms, eq hint): calls s")
    for k, s in sorted(agg.items(), key=lambda kv: -kv[1][1])[:40]:
        print(f"  {k}: {s[0]} {s[1]:.4f}")
    print(f"  total {len(calls['sc'])} calls {sum(c[-1] for c in calls['sc']):.3f} s")
    if out:
        with open(out, "wb") as f:
            pickle.dump(calls, f)


if __name__ == "__main__":
    main(sys.argv[1:])
