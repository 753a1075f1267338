"""The prover-cache state store of WHIR (`zklora.zkcore.provercache`).

A `whir.WhirState` is stored in a directory as ``state.json`` and its arrays' files:

* the stacked table (``table.bin``): the scratch file of a mapped table hard-linked
  (copied across file systems), an in-RAM table written;
* the first codeword's leaves and Merkle levels: a spilled tree's scratch files linked
  (a streamed tree's leaves keep their block order, ``S``/``per`` of
  `whir._BlockLeaves`), an in-RAM tree's arrays written (small: a state is in RAM only
  below the scratch store's spill size);
* the coefficient form when the state has one (in RAM only);
* root, OOD points and values, parameters in ``state.json``.

`load` maps the files back read-only (the table as a memory map, the tree as
`scratch.Spilled` handles; an in-RAM tree is read into RAM) and checks what is cheap:
the format, the parameters, every file's size, the commitment against the root and the
OOD values, the OOD points against the root, the top Merkle level against the root.  A
corrupted leaf or lower level is not read here; the proof then fails verification
(tests/test_s25h1_prover_cache.py).  Nothing here writes to a file it did not create,
and the files it creates are never written again.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from zklora.zkcore import provercache as PC
from zklora.zkcore import scratch
from zklora.zkcore.canon import canonical_json
from zklora.zkcore.errors import ProverError
from zklora.zkcore.hookspecs import hookimpl

from . import whir as W

STATE = "state.json"


def _ints(a: np.ndarray) -> list[int]:
    return [int(x) for x in np.asarray(a, dtype=np.uint64).reshape(-1)]


def same_params(stored: Any, cfg: W.WhirParams) -> bool:
    """Whether a stored state's parameters (``state.json``'s ``params``) are ``cfg``.  A
    parameter missing from the stored ones did not exist when the state was made, so the
    state was made under that parameter's default (each new knob's default keeps the
    bytes of the proofs before it: `whir.WhirParams`); it is filled in before comparing,
    and an unknown stored key still refuses."""
    if not isinstance(stored, dict):
        return False
    filled = {f.name: f.default for f in attrs.fields(type(cfg))
              if f.name not in stored and not isinstance(f.default, attrs.Factory)
              and f.default is not attrs.NOTHING}
    return {**filled, **stored} == attrs.asdict(cfg)


class _Writer:
    """Files of one state directory: each scratch file linked once (several handles may
    share a file), arrays written."""

    def __init__(self, d: Path):
        self.d = d
        self.linked: dict[str, str] = {}
        self.count = 0

    def _name(self, stem: str) -> str:
        self.count += 1
        return f"{stem}-{self.count}.bin"

    def link(self, path: str) -> str:
        name = self.linked.get(path)
        if name is None:
            name = self.linked[path] = self._name("f")
            PC.link_or_copy(path, str(self.d / name))
        return name

    def array(self, a, stem: str) -> dict[str, Any]:
        """A table or an in-RAM array: its mapped file linked when it has one."""
        a = np.asarray(a)
        fr = scratch.file_range(a)
        if fr is not None:
            path, off, _ = fr
            return {"file": self.link(path), "offset": off, "shape": list(a.shape),
                    "dtype": a.dtype.str}
        return PC.write_array(str(self.d / self._name(stem)), a)

    def handle(self, h, stem: str) -> dict[str, Any]:
        """A tree part: a `scratch.Spilled` (linked) or an array."""
        if isinstance(h, scratch.Spilled):
            out = {"file": self.link(h.path), "offset": int(h.offset),
                   "shape": [int(x) for x in h.shape], "dtype": np.dtype(h.dtype).str,
                   "spilled": True}
            if isinstance(h, W._BlockLeaves):
                out["block"] = [int(h.S), int(h.per)]
            return out
        return self.array(h, stem)


@attrs.frozen
class WhirStateStore:
    """`zk_state_stores` entry of the ``whir`` scheme (module doc)."""

    name: str = "whir"
    version: int = 1

    def save(self, table, state, d) -> None:
        if not isinstance(state, W.WhirState):
            raise ProverError("whir state store: only binding WHIR states are cached")
        d = Path(d)
        w = _Writer(d)
        tr = state.tree
        doc = {
            "zklora_whir_state": self.version, "n": int(state.n),
            "commitment": state.commitment.hex(), "root": state.root.hex(),
            "ood_points": _ints(state.ood_points), "ood_values": _ints(state.ood_values),
            "params": attrs.asdict(state.params),
            "table": w.array(table, "table"),
            "coeffs": None if state.coeffs is None else w.array(state.coeffs, "coeffs"),
            "tree": {"skip": int(tr.skip), "hash": tr.hash, "digest": int(tr.digest),
                     "leaves": w.handle(tr.leaves, "leaves"),
                     "levels": [w.handle(h, "level") for h in tr.levels]},
        }
        (d / STATE).write_bytes(canonical_json(doc))

    def load(self, d, scheme, num_vars: int):
        d = Path(d)
        try:
            doc = json.loads((d / STATE).read_bytes())
        except (OSError, ValueError) as e:
            raise ProverError(f"{d / STATE}: unreadable ({e})") from None
        if not isinstance(doc, dict) or doc.get("zklora_whir_state") != self.version:
            raise ProverError(f"{d}: not a WHIR state of version {self.version}")
        n = doc["n"]
        if n != num_vars:
            raise ProverError(f"{d}: a table of 2^{n} elements, expected 2^{num_vars}")
        if not same_params(doc["params"], scheme.cfg):
            raise ProverError(f"{d}: state of other WHIR parameters")
        table = PC.map_array(d, doc["table"])
        if table.shape != (1 << n,) or table.dtype != np.uint64:
            raise ProverError(f"{d}: table of the wrong shape")
        coeffs = None if doc["coeffs"] is None else PC.read_array(d, doc["coeffs"])
        t = doc["tree"]
        pl = scheme.plan(n)
        r0 = pl.rounds[0]
        leaves = self._part(d, t["leaves"])
        if tuple(leaves.shape[:2]) != (1 << (r0.d - r0.k), 1 << r0.k):
            raise ProverError(f"{d}: leaves of the wrong shape")
        levels = [self._part(d, h) for h in t["levels"]]
        root = bytes.fromhex(doc["root"])
        tree = W.Tree(leaves, levels, int(t["skip"]), t["hash"], int(t["digest"]))
        top = levels[-1]
        top = top.read_range(0, 1) if isinstance(top, scratch.Spilled) else top
        if len(levels) + tree.skip != r0.d - r0.k + 1 or top.shape[0] != 1 or \
                np.asarray(top)[0].tobytes() != root:
            raise ProverError(f"{d}: Merkle levels do not end in the root")
        zs = np.array(doc["ood_points"], dtype=np.uint64).reshape(-1, 2)
        ys = np.array(doc["ood_values"], dtype=np.uint64).reshape(-1, 2)
        if len(zs) != pl.ood0 or len(ys) != len(zs) or \
                not np.array_equal(scheme._ood_points(n, root, pl.ood0), zs):
            raise ProverError(f"{d}: OOD points are not the root's")
        com = bytes.fromhex(doc["commitment"])
        if scheme._digest(n, root, ys) != com:
            raise ProverError(f"{d}: commitment is not the root's and OOD values'")
        table.flags.writeable = False
        return table, W.WhirState(com, n, table, coeffs, tree, root, zs, ys, scheme.cfg)

    @staticmethod
    def _part(d: Path, desc):
        if desc.get("spilled"):
            path = PC.check_file(d, desc)
            shape = tuple(int(x) for x in desc["shape"])
            if "block" in desc:
                S, per = (int(x) for x in desc["block"])
                return W._BlockLeaves(path, int(desc["offset"]), shape, desc["dtype"], S, per)
            return scratch.Spilled(path, int(desc["offset"]), shape, desc["dtype"])
        return PC.read_array(d, desc)


@hookimpl
def zk_state_stores():
    return [WhirStateStore()]

