"""Capture the openings phase's inputs at a `zklora bench` shape (not a test).

    flock /tmp/heavy.lock python tests/bench/h1_capture.py [SIZE] OUTDIR

Proves SIZE (default 25m; ZK off, fast = WHIR) and pickles, to OUTDIR, the arguments of
every `stack._prove_streaming` call (tables copied into RAM) as stack<i>.pkl, and a
summary of the WHIR batch (each item's size and claim count, state kinds) as
whir.txt — the inputs `h1_stack_ab.py` replays."""

from __future__ import annotations

import pickle
import sys
import tempfile
from pathlib import Path


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    size, out = (argv[0], argv[1]) if len(argv) > 1 else ("25m", argv[0])
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    from zklora.plugins.commitments import whir as W
    from zklora.zkcore import bench, pyapi, stack
    from zklora.zkcore.stack import _read

    orig = stack._prove_streaming
    count = [0]

    def cap(ch, E, label, K, tables, base, claims, weights, begin=None, shifts=None):
        tabs = [_read(t, 0, 1 << K, base) for t in tables]
        with open(out / f"stack{count[0]}.pkl", "wb") as f:
            pickle.dump(dict(label=label, K=K, tables=tabs, base=base, claims=claims,
                             weights=weights), f, protocol=5)
        count[0] += 1
        print(f"stack {label} K={K} T={len(tables)} claims="
              f"{[len(c) for c in claims]}", file=sys.stderr)
        return orig(ch, E, label, K, tables, base, claims, weights, begin, shifts)

    stack._prove_streaming = cap
    worig = W.Whir.open

    def wopen(self, ch, items, sums=()):
        with open(out / "whir.txt", "w") as f:
            for it in items:
                st = it.state
                f.write(f"n={st.n} evals={len(it.evals)} coeffs="
                        f"{type(st.coeffs).__name__} table={type(st.table).__name__}\n")
        return worig(self, ch, items, sums)

    W.Whir.open = wopen
    shape = bench.SIZES[size]
    batch, seq = bench.batch_seq(size)
    with tempfile.TemporaryDirectory() as tmp:
        m, ad = bench._write_checkpoint(Path(tmp), shape)
        res = pyapi.prove(model=str(m), adapter=str(ad), steps=1, profile="fast",
                          zero_knowledge=False,
                          config={"task": {"model": "llama-train"},
                                  "model": {"batch": batch, "seq": seq}},
                          out=Path(tmp) / "p.zkp")
        (out / "proof.sha").write_text(__import__("hashlib").sha256(res.data).hexdigest())
    print("captured", count[0], "stacks")



if __name__ == "__main__":
    main()
