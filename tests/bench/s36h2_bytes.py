"""Where a proof's WHIR bytes go (s36h2; not a test).

    python tests/bench/s36h2_bytes.py SIZE [SEQ] [JSON_WHIR_PARAMS] [OUT.json]

Proves SIZE (a `zklora bench` size, ``tiny`` = pyapi's tiny model) once with
``[commitment.whir]`` = the JSON object given, tallies every prover message the WHIR
opening sends by label and round (`ProverChannel.send_bytes`), records the opened
tables' sizes, and prints (and writes) the proof bytes, the tally and the prove CPU."""

from __future__ import annotations

import collections
import hashlib
import json
import sys
import tempfile
import time
from pathlib import Path


def main(size: str, seq: int | None, params: dict, out: str | None) -> None:
    from zklora.plugins.commitments import whir as W
    from zklora.zkcore import bench, pyapi, transcript

    tally: collections.Counter = collections.Counter()
    state = {"in": False, "round": "?"}
    sizes: list = []
    orig_send = transcript.ProverChannel.send_bytes

    def send(self, label, data):
        if state["in"]:
            tally[f"{state['round']}:{label}"] += len(data)
        return orig_send(self, label, data)

    transcript.ProverChannel.send_bytes = send
    orig_open = W.Whir.open

    def opn(self, ch, items, sums=()):
        sizes.append(sorted(it.state.n for it in items if it.evals))
        state["in"], state["round"] = True, "head"
        try:
            return orig_open(self, ch, items, sums)
        finally:
            state["in"] = False

    W.Whir.open = opn
    orig_chain = W.Whir._prove_chain

    def chain(self, ch, rounds, *a, **kw):
        tag = f"m{rounds[0].m}"
        orig_fold = self._prove_fold
        cnt = {"i": 0}

        def fold(ch2, rd, *a2, **kw2):
            state["round"] = f"{tag}.r{cnt['i']}(m{rd.m},d{rd.d},k{rd.k},t{rd.queries})"
            cnt["i"] += 1
            return orig_fold(ch2, rd, *a2, **kw2)
        self._prove_fold = fold
        try:
            return orig_chain(self, ch, rounds, *a, **kw)
        finally:
            del self._prove_fold

    W.Whir._prove_chain = chain
    orig_merged = W.Whir._prove_merged

    def merged(self, ch, heads):
        state["round"] = "merged-r0"
        return orig_merged(self, ch, heads)

    W.Whir._prove_merged = merged
    orig_head = W.Whir._prove_head

    def head(self, ch, n, group, *a, **kw):
        pl, f, w, coeffs, round0 = orig_head(self, ch, n, group, *a, **kw)
        r = pl.rounds[0]

        def r0(idx):
            prev = state["round"]
            state["round"] = f"n{n}xT{len(group)}.r0(d{r.d},k{r.k},t{r.queries},q{len(idx)})"
            try:
                return round0(idx)
            finally:
                state["round"] = prev
        return pl, f, w, coeffs, r0

    W.Whir._prove_head = head
    cfg = {"commitment": {"whir": params}} if params else {}
    c0 = time.process_time()
    if size == "tiny":
        res = pyapi.prove(task="train", model="tiny", zero_knowledge=False,
                          config=cfg or None)
    else:
        shape = bench.SIZES[size]
        batch, s = bench.batch_seq(size, seq=seq)
        with tempfile.TemporaryDirectory() as tmp:
            m, ad = bench._write_checkpoint(Path(tmp), shape)
            res = pyapi.prove(model=str(m), adapter=str(ad), steps=1, profile="fast",
                              zero_knowledge=False,
                              config={**cfg, "task": {"model": "llama-train"},
                                      "model": {"batch": batch, "seq": s}},
                              out=Path(tmp) / "p.zkp")
    cpu = time.process_time() - c0
    rep = {"size": size, "seq": seq, "params": params, "bytes": len(res.data),
           "sha": hashlib.sha256(res.data).hexdigest(), "prove_cpu": cpu,
           "opened": sizes, "whir_bytes": sum(tally.values()),
           "tally": dict(sorted(tally.items()))}
    print(json.dumps(rep, indent=1))
    if out:
        Path(out).write_text(json.dumps(rep, indent=1))


if __name__ == "__main__":
    a = sys.argv[1:]
    main(a[0], int(a[1]) if len(a) > 1 and a[1] != "-" else None,
         json.loads(a[2]) if len(a) > 2 else {}, a[3] if len(a) > 3 else None)
