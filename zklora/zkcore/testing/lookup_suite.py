"""Conformance suite for `LookupArgument` implementations (arkworks-style generic tests).

Run it against any lookup argument class, e.g. from pytest::

    from zklora.zkcore.testing import lookup_suite as S
    S.check_completeness(MyArg, "goldilocks", S.range_table(8), sizes=[64, 16])

Every check proves a small graph end to end with the ``plain`` commitment scheme and a
test op ``lookup_probe`` whose relations call ``ctx.require_lookup`` on committed
tensors; one graph may carry several requests of different sizes into one table.
Checks raise `AssertionError` on failure.

Malicious proofs are built with the prover self-checks off
(`zklora.zkcore.selfcheck.disabled`: `LookupArgument.witness` then proves rows outside
the table anyway, counting them nowhere) and the test-only hook
``LookupArgument.test_tamper_multiplicities``; an argument that computes its witness some
other way must honour both to be tested here.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from functools import lru_cache

import numpy as np
import torch

from .. import selfcheck
from ..errors import ProofFormatError, ProverError, VerificationError
from ..graph import Backend, Graph, prove, verify
from ..hookspecs import hookimpl
from ..lookup import LookupArgument, Table
from ..op import Op
from ..plugins import Registry, registry_with
from ..range import range_table

__all__ = ["check_completeness", "check_rejects_outside", "check_rejects_wrong_output",
           "check_rejects_wrong_multiplicities", "check_rejects_tampered_bytes",
           "check_many_tables", "check_all", "range_table", "probe_registry",
           "prove_requests", "prove_tables", "random_rows"]

#: tables the probe op can name (key = table name); filled by `prove_requests`
TABLES: dict[str, Table] = {}
STATEMENT = {"suite": "lookup"}


class LookupProbe(Op):
    """Z = first input (copy); proving it requires, for every (table name, groups) of
    node.params['lookups'], every group (a list of input tensors) to be rows of the
    table ``TABLES[table name]``."""

    name = "lookup_probe"

    def forward(self, node, inputs):
        return [inputs[0].clone()]

    def relations(self, ctx, node, out_claims):
        (c,) = out_claims.values()
        for t, (name, groups) in enumerate(node.params["lookups"]):
            for g, cols in enumerate(groups):
                ctx.require_lookup(TABLES[name], cols, f"{node.name}/t{t}/req{g}")
        return [ctx.claim(node.inputs[0], c.point, c.value)]


@hookimpl
def zk_ops():
    return [LookupProbe()]


@lru_cache(maxsize=1)
def probe_registry() -> Registry:
    """The installed plugins plus the probe op."""
    return registry_with(sys.modules[__name__])


def backend(arg: LookupArgument, field: str) -> Backend:
    reg = probe_registry()
    F = reg.field(field)
    return Backend(F, reg.commitment("plain")(F), arg, reg)


def random_rows(table: Table, n: int, rng: np.random.Generator) -> list[torch.Tensor]:
    """n uniformly random rows of the table, as one int64 tensor per column."""
    idx = rng.integers(0, table.size, size=n)
    return [torch.from_numpy(np.ascontiguousarray(c[idx])) for c in table.columns()]


def prove_requests(arg: LookupArgument, field: str, table: Table,
                   requests: Sequence[Sequence[torch.Tensor]]):
    """Prove a graph whose probe op requires every request (a list of column tensors)
    to lie in ``table``.  Returns (graph, backend, proof, sections)."""
    return prove_tables(arg, field, [(table, requests)])


def prove_tables(arg: LookupArgument, field: str,
                 lookups: Sequence[tuple[Table, Sequence[Sequence[torch.Tensor]]]]):
    """Prove a graph whose probe op requires, for every (table, requests) pair, every
    request (a list of column tensors) to lie in that table; several tables make the
    kernel prove several tables at once (`LookupArgument.prove_many`).  Request q of
    pair t has columns ``c{q}_{k}`` for t = 0 and ``t{t}c{q}_{k}`` otherwise.
    Returns (graph, backend, proof, sections)."""
    g = Graph()
    inputs = {}
    params = []
    for t, (table, requests) in enumerate(lookups):
        TABLES[table.name] = table
        names = []
        for q, cols in enumerate(requests):
            group = []
            for k, c in enumerate(cols):
                name = g.tensor(f"c{q}_{k}" if t == 0 else f"t{t}c{q}_{k}", tuple(c.shape),
                                "committed")
                inputs[name] = c
                group.append(name)
            names.append(group)
        params.append((table.name, names))
    first = params[0][1][0][0]
    g.tensor("Z", tuple(inputs[first].shape), "committed")
    g.op("lookup_probe", "probe", [n for _, grps in params for grp in grps for n in grp],
         ["Z"], lookups=params)
    g.outputs = ["Z"]
    be = backend(arg, field)
    proof, sections = prove(g, inputs, be, STATEMENT)
    return g, be, proof, sections


def _requests(table: Table, sizes: Sequence[int], seed: int):
    rng = np.random.default_rng(seed)
    return [random_rows(table, n, rng) for n in sizes]


def _must_reject(g, be, proof, sections, what: str) -> None:
    try:
        verify(g, proof, be, STATEMENT, sections)
    except (VerificationError, ProofFormatError):
        return
    raise AssertionError(f"verifier accepted {what}")


def check_completeness(arg_cls: type[LookupArgument], field: str, table: Table,
                       sizes: Sequence[int] = (64,), seed: int = 0) -> int:
    """Honest proofs of random rows verify; returns the proof size in bytes."""
    g, be, proof, sections = prove_requests(arg_cls(), field, table,
                                            _requests(table, sizes, seed))
    verify(g, proof, be, STATEMENT, sections)
    return len(proof)


def _outside_row(table: Table) -> tuple[int, ...]:
    cols = table.columns()
    x = int(cols[0].max()) + 1
    return (x,) + tuple(int(c[0]) for c in cols[1:])


def _malicious(arg_cls, field, table, requests, *,
               tamper: Callable[[np.ndarray], np.ndarray] | None = None):
    arg = arg_cls()
    arg.test_tamper_multiplicities = tamper
    with selfcheck.disabled():
        return prove_requests(arg, field, table, requests)


def _check_prover_error(arg_cls, field, table, requests, needles: Sequence[str]) -> None:
    try:
        prove_requests(arg_cls(), field, table, requests)
    except ProverError as e:
        msg = str(e)
        for s in needles:
            if s not in msg:
                raise AssertionError(f"prover error {msg!r} does not mention {s!r}") from None
        return
    raise AssertionError("the prover accepted a row outside the table")


def check_rejects_outside(arg_cls, field: str, table: Table, sizes=(32,), seed: int = 1
                          ) -> None:
    """One value outside the table: a `ProverError` naming tensor, value and table for
    the honest prover; the verifier rejects a proof made by bypassing that check."""
    reqs = _requests(table, sizes, seed)
    row = _outside_row(table)
    i = len(reqs[0][0]) // 2
    for k, v in enumerate(row):
        reqs[0][k].view(-1)[i] = v
    _check_prover_error(arg_cls, field, table, reqs, ["c0_0", str(row[0]), table.name])
    _must_reject(*_malicious(arg_cls, field, table, reqs),
                 "a value outside the table")


def check_rejects_wrong_output(arg_cls, field: str, table: Table, sizes=(32,), seed: int = 2
                               ) -> None:
    """Function tables (width ≥ 2): one output ≠ f(input) is a prover error, and a proof
    made anyway is rejected."""
    if table.width < 2:
        raise ValueError("check_rejects_wrong_output needs a function table")
    reqs = _requests(table, sizes, seed)
    i = len(reqs[0][0]) // 3
    reqs[0][1].view(-1)[i] += 1
    _check_prover_error(arg_cls, field, table, reqs, ["c0_1", table.name])
    _must_reject(*_malicious(arg_cls, field, table, reqs),
                 "an output that is not f(input)")


def check_rejects_wrong_multiplicities(arg_cls, field: str, table: Table, sizes=(32,),
                                       seed: int = 3) -> None:
    """Multiplicities off by one on two rows (same total) are rejected."""
    reqs = _requests(table, sizes, seed)

    def shift(m):
        a = int(np.argmax(m))
        b = (a + 1) % len(m)
        m[a] -= 1
        m[b] += 1
        return m

    _must_reject(*_malicious(arg_cls, field, table, reqs, tamper=shift),
                 "wrong multiplicities")

    def add(m):
        m[len(m) - 1] += 1
        return m

    _must_reject(*_malicious(arg_cls, field, table, reqs, tamper=add),
                 "an extra multiplicity")


def check_rejects_tampered_bytes(arg_cls, field: str, table: Table, sizes=(32,),
                                 seed: int = 4, positions: int = 8) -> None:
    """Flipping one byte anywhere in the lookup section makes the verifier reject."""
    g, be, proof, sections = prove_requests(arg_cls(), field, table,
                                            _requests(table, sizes, seed))
    verify(g, proof, be, STATEMENT, sections)
    (start, end), = [(s, e) for name, s, e in sections if name == "lookups"]
    if end <= start:
        raise AssertionError("the lookup argument wrote nothing into the proof")
    for pos in np.unique(np.linspace(start, end - 1, positions).astype(int)):
        bad = bytearray(proof)
        bad[pos] ^= 0x01
        _must_reject(g, be, bytes(bad), sections, f"a proof with byte {pos} flipped")
    _must_reject(g, be, proof[:-1], sections, "a truncated proof")


def _many(tables: Sequence[Table], sizes: Sequence[Sequence[int]], seed: int):
    rng = np.random.default_rng(seed)
    return [(t, [random_rows(t, n, rng) for n in ss]) for t, ss in zip(tables, sizes)]


def check_many_tables(arg_cls, field: str, tables: Sequence[Table],
                      sizes: Sequence[Sequence[int]], seed: int = 5) -> int:
    """Several tables in one proof (the kernel's `LookupArgument.prove_many`): honest
    proofs verify; the verifier rejects a wrong multiplicity in one table only, a value
    outside its table (also when it lies in another table and is counted there), and
    one flipped byte of the lookup section.  ``tables`` must have distinct sizes, and
    ``tables[1]`` must hold a value ``tables[0]`` lacks.  Returns the proof size."""
    if len({t.size for t in tables}) != len(tables):
        raise ValueError("check_many_tables needs tables of distinct sizes")
    lk = _many(tables, sizes, seed)
    g, be, proof, sections = prove_tables(arg_cls(), field, lk)
    verify(g, proof, be, STATEMENT, sections)
    for target in sorted({0, len(tables) - 1}):
        size = tables[target].size
        if size < 2:
            continue

        def shift(m, size=size):
            if len(m) == size:
                a = int(np.argmax(m))
                m[a] -= 1
                m[(a + 1) % len(m)] += 1
            return m

        arg = arg_cls()
        arg.test_tamper_multiplicities = shift
        with selfcheck.disabled():
            bad = prove_tables(arg, field, lk)
        _must_reject(*bad, f"wrong multiplicities in table {target} of {len(tables)}")
    # a row of table 1 that table 0 lacks, requested from table 0
    t0, t1 = tables[0], tables[1]
    if t0.width != t1.width:
        raise ValueError("check_many_tables: tables[0] and tables[1] differ in width")
    rows1 = np.stack(t1.columns(), 1)
    miss = np.flatnonzero(t0.locate(list(t1.columns())) < 0)
    if not miss.size:
        raise ValueError("check_many_tables: tables[1] must be as wide as tables[0] and "
                         "hold a row tables[0] lacks")
    row = rows1[int(miss[0])]
    j = int(t1.locate([np.array([v]) for v in row])[0])
    bad_lk = [(t, [[c.clone() for c in req] for req in reqs]) for t, reqs in lk]
    for k in range(t0.width):
        bad_lk[0][1][0][k].view(-1)[0] = int(row[k])
    with selfcheck.disabled():
        _must_reject(*prove_tables(arg_cls(), field, bad_lk),
                     "a value outside its table (among several tables)")

    def moved(m, size=t1.size, j=j):  # the row counted in the table that holds it
        if len(m) == size:
            m[j] += 1
        return m

    arg = arg_cls()
    arg.test_tamper_multiplicities = moved
    with selfcheck.disabled():
        _must_reject(*prove_tables(arg, field, bad_lk),
                     "a value of another table, counted in that table")
    (start, end), = [(s, e) for name, s, e in sections if name == "lookups"]
    for pos in np.unique(np.linspace(start, end - 1, 8).astype(int)):
        flipped = bytearray(proof)
        flipped[pos] ^= 0x01
        _must_reject(g, be, bytes(flipped), sections, f"byte {pos} flipped (many tables)")
    return len(proof)


def check_all(arg_cls, field: str, range_bits: int = 6, function_table: Table | None = None
              ) -> None:
    """Every check on a small range table (and a function table if given)."""
    t = range_table(range_bits)
    check_completeness(arg_cls, field, t, sizes=(64, 16, 16, 1))
    check_rejects_outside(arg_cls, field, t)
    check_rejects_wrong_multiplicities(arg_cls, field, t)
    check_rejects_tampered_bytes(arg_cls, field, t)
    check_many_tables(arg_cls, field, [range_table(4), range_table(range_bits)],
                      [(16, 4), (64, 8)])
    if function_table is not None:
        check_completeness(arg_cls, field, function_table, sizes=(32, 8))
        check_rejects_outside(arg_cls, field, function_table)
        check_rejects_wrong_output(arg_cls, field, function_table)
