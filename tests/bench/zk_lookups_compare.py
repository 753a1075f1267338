"""`zk_compare.py` with hidden lookups (`graph.HIDE_LOOKUPS` on; docs/zero-knowledge.md
§5.1 "LogUp-GKR").

    flock /tmp/heavy.lock timeout 1200 .venv/bin/python tests/bench/zk_lookups_compare.py \
        --rounds 2 --verify-reps 5 [--force-segments] [--no-hide]

Same arguments and output as `tests/bench/zk_compare.py` (ZK off vs on, interleaved).
``--force-segments``: hide the lookups in segmented graphs too (the tiny training step is
one; `graph._run` turns `hide_lookups` off for them: ``… and not graph.node_segments``):
the contexts' ``hide_lookups`` is forced to ``bool(ctx.hide)`` whenever the graph sets
it, i.e. what that line would give without its segment clause.  ``--no-hide``: leave
`HIDE_LOOKUPS` off (the baseline of the same process layout).
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__)))))

from zklora.zkcore import graph as graphlib  # noqa: E402
from zklora.zkcore import op as oplib  # noqa: E402


def _force_segments() -> None:
    def get(self):
        return self.__dict__.get("_hide_lookups_forced", False)

    def set_(self, v):
        self.__dict__["_hide_lookups_forced"] = bool(v) or (graphlib.HIDE_LOOKUPS
                                                            and bool(self.hide))

    oplib._Context.hide_lookups = property(get, set_)


def main() -> None:
    argv = sys.argv[1:]
    hide = "--no-hide" not in argv
    force = "--force-segments" in argv
    sys.argv = [sys.argv[0]] + [a for a in argv if a not in ("--no-hide", "--force-segments")]
    graphlib.HIDE_LOOKUPS = hide
    if force and hide:
        _force_segments()
    print(f'{{"hide_lookups": {str(hide).lower()}, "force_segments": {str(force).lower()}}}',
          flush=True)
    from tests.bench import zk_compare

    zk_compare.main()


if __name__ == "__main__":
    main()
