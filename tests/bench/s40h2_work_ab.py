"""s40h2_work_ab.py [ROUNDS]: in-process A/B of the commitment phase's two streamed WHIR
commitments (2^25 then 2^24 entries, the 84m stacks' sizes) with fresh encoder arrays a
commitment (old: ``work`` None) vs one `WorkArrays` set for both (new:
`Committer.flush_packed`'s shared set), interleaved; per round and variant: user / sys CPU
and minor faults of each commitment (getrusage), and that the commitments agree."""
import resource
import sys

import numpy as np

from zklora.plugins.commitments import whir as W
from zklora.zkcore import scratch
from zklora.zkcore.plugins import registry

F = registry().field("goldilocks")


def ru():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return np.array([r.ru_utime, r.ru_stime, r.ru_minflt])


def main(rounds: int) -> None:
    s = W.Whir(F, {})
    rng = np.random.default_rng(1)
    tabs = []
    for n in (25, 24):
        t = F.random(rng, 1 << n)
        t.flags.writeable = False
        tabs.append(t)
    coms = {}
    acc = {"old": [], "new": []}
    for r in range(rounds):
        for v in (("old", "new") if r % 2 == 0 else ("new", "old")):
            with scratch.session():
                work = s.work_arrays() if v == "new" else None
                per = []
                for t in tabs:
                    a = ru()
                    com, st = s.commit(t) if work is None else s.commit(t, work=work)
                    per.append(ru() - a)
                    coms.setdefault(t.shape[0], com)
                    assert coms[t.shape[0]] == com
                    del st
                del work
                scratch.trim()
            acc[v].append(per)
            print(f"round {r} {v}: " + "  ".join(
                f"2^{t.shape[0].bit_length() - 1}: user {p[0]:.2f} sys {p[1]:.2f} "
                f"minflt {int(p[2])}" for t, p in zip(tabs, per)), flush=True)
    for v, rows in acc.items():
        a = np.array(rows)   # (rounds, 2, 3)
        med = np.median(a, axis=0)
        print(f"median {v}: " + "  ".join(f"user {m[0]:.2f} sys {m[1]:.2f} minflt {int(m[2])}"
                                          for m in med))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 4)
