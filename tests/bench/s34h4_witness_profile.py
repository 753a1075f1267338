"""cProfile of only the witness phase (`LlamaTrain._prepare` + `model.witness`) of one
bench-path 25m/84m prove (ZK off, profile fast; stopped after it); prints the top tottime entries.

    flock /tmp/heavy.lock python tests/bench/s34h4_witness_profile.py SIZE OUT.prof [N]
"""

from __future__ import annotations

import cProfile
import pstats
import sys
import time
from pathlib import Path


def main(size: str, dump: str, top: int = 40) -> None:
    from zklora.plugins.models import llama_train as lt
    from zklora.zkcore import api

    sys.path.insert(0, str(Path(__file__).parent))
    from s34h4_witness_ab import prove_until

    pr = cProfile.Profile()
    spent = [0.0]

    def wrap(fn):
        def inner(*a, **kw):
            c0 = time.process_time()
            pr.enable()
            try:
                return fn(*a, **kw)
            finally:
                pr.disable()
                spent[0] += time.process_time() - c0
        return inner

    class Stop(Exception):
        pass

    def stop(fn):
        def inner(*a, **kw):
            fn(*a, **kw)
            raise Stop  # the witness phase ends here: no need to prove
        return inner

    api.make_statement = wrap(api.make_statement)
    lt.LlamaTrain.witness = stop(wrap(lt.LlamaTrain.witness))
    w0, c0 = time.perf_counter(), time.process_time()
    prove_until(size, Stop)   # includes writing the checkpoint
    print(f"until witness wall {time.perf_counter() - w0:.2f} CPU "
          f"{time.process_time() - c0:.2f}; witness (profiled) CPU {spent[0]:.2f}")
    pr.dump_stats(dump)
    pstats.Stats(dump).sort_stats("tottime").print_stats(top)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 40)
