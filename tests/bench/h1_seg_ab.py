"""A captured streamed stack reduction with `stack.SEG_PASSES` = each given value, in one
process, interleaved (not a test).

    python tests/bench/h1_capture.py 25m /tmp/cap      # (heavy) writes /tmp/cap/stack<i>.pkl
    flock /tmp/heavy.lock python tests/bench/h1_seg_ab.py /tmp/cap/stack1.pkl ROUNDS 0 8

Each round replays the captured `_prove_streaming` call once per value (order rotating)
inside a scratch session (the table read through a `scratch.Spilled` file, as in a
proof); prints CPU / wall medians per value, ratios to the first, and asserts equal
proof bytes."""

from __future__ import annotations

import hashlib
import os
import pickle
import statistics
import sys
import time


def _claims(cap: str) -> str:
    """CAP.claims.pkl: the capture without its tables (made once, `_tables`)."""
    return cap[:-4] + ".claims.pkl"


def _tables(cap: str) -> list:
    """The capture's tables as `scratch.Spilled` files CAP.tab<i> (written once, with
    CAP.claims.pkl, so later runs do not load the tables into RAM)."""
    from zklora.zkcore import scratch

    if not os.path.exists(_claims(cap)):
        with open(cap, "rb") as f:
            d = pickle.load(f)
        t = d.pop("tables")
        for i, x in enumerate(t):
            path = f"{cap}.tab{i}"
            if not os.path.exists(path) or os.path.getsize(path) != x.nbytes:
                x.tofile(path + ".tmp")
                os.replace(path + ".tmp", path)
        d["shapes"] = [x.shape for x in t]
        d["dtypes"] = [x.dtype.str for x in t]
        with open(_claims(cap), "wb") as f:
            pickle.dump(d, f, protocol=5)
        del t, d
    with open(_claims(cap), "rb") as f:
        d = pickle.load(f)
    return [scratch.Spilled(f"{cap}.tab{i}", 0, s, dt)
            for i, (s, dt) in enumerate(zip(d["shapes"], d["dtypes"]))]


def main(cap: str, rounds: int, values: list[int]) -> None:
    from zklora.zkcore import scratch, stack
    from zklora.zkcore.plugins import registry
    from zklora.zkcore.transcript import ProverChannel, Transcript

    E = registry().field("goldilocks").ext
    tabs = _tables(cap)
    with open(_claims(cap), "rb") as f:
        d = pickle.load(f)

    def once(v):
        stack.SEG_PASSES = v
        with scratch.session():
            ch = ProverChannel(Transcript(b"h1_stack_ab"))
            w, c = time.perf_counter(), time.process_time()
            stack._prove_streaming(ch, E, d["label"], d["K"], tabs, d["base"], d["claims"],
                                   d["weights"])
            return (time.perf_counter() - w, time.process_time() - c,
                    hashlib.sha256(ch.proof_bytes()).hexdigest()[:24])

    for v in values:   # warm
        once(v)
    res = {v: [] for v in values}
    for r in range(rounds):
        order = values[r % len(values):] + values[:r % len(values)]
        for v in order:
            res[v].append(once(v))
            print(v, res[v][-1], flush=True)
    shas = {x[2] for v in values for x in res[v]}
    base = res[values[0]]
    bw = statistics.median(x[0] for x in base)
    bc = statistics.median(x[1] for x in base)
    for v in values:
        w = statistics.median(x[0] for x in res[v])
        c = statistics.median(x[1] for x in res[v])
        print(f"SEG_PASSES={v}: wall {w:.3f} s (x{w / bw:.3f}), cpu {c:.3f} s (x{c / bc:.3f})")
    print("proofs", shas)
    assert len(shas) == 1


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), [int(v) for v in sys.argv[3:]])
