"""Capture the arguments of `range.choose_widths` in one bench-shape prove (pickled to
OUT/widths-SIZE.pkl: a list of (args, kwargs, result)), stopping the prove right after
the commitments phase's first call.  Not a test.

    flock /tmp/heavy.lock env PYTHONPATH=$PWD python tests/bench/s35h5_capture_widths.py 25m OUT
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path


class _Stop(Exception):
    pass


def main(size: str, out: str) -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    import h3_prove_shape

    from zklora.zkcore import range as rangelib

    got: list = []
    orig = rangelib.choose_widths

    def capture(*args, **kw):
        res = orig(*args, **kw)
        got.append((args, kw, res))
        if kw.get("same_tables"):   # padded_checks' call: the commitments phase
            Path(out).mkdir(parents=True, exist_ok=True)
            with open(Path(out) / f"widths-{size}.pkl", "wb") as f:
                pickle.dump(got, f)
            raise _Stop
        return res

    rangelib.choose_widths = capture
    try:
        h3_prove_shape.main(size, str(Path(out) / "x.zkp"))
    except _Stop:
        pass
    print(len(got), "calls captured")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
