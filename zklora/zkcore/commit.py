"""Polynomial commitment scheme protocol (multilinear).

A scheme commits to the MLE of a flat tensor of 2^n prime-field elements (§3.2 index
convention) and later proves evaluations ``t̃(r) = v`` at points r of the challenge
field.  Openings are batched: one `open` call covers many claims on many tensors.

Relation proven by ``open``/``verify``: for every item (commitment C_i, claims
{(r_ij, v_ij)}), C_i commits to a table t_i with t̃_i(r_ij) = v_ij; and, for a scheme
with ``sum_claims`` (the hiding ligero opening), for every `SumClaim` ({(i_j, p_j,
λ_j)}, v): Σ_j λ_j·t̃_{i_j}(p_j) = v — one value for a linear combination of
evaluations, possibly on several items, whose terms are never revealed one by one (the
zero-knowledge stack reduction's final check, docs/zero-knowledge.md §5.2).

Like arkworks' ``PolynomialCommitment``: the prover keeps a `state` ("not to be
shared with the verifier"), the transcript (channel) is passed in, not owned.  A hiding
variant would blind commitments and openings; ``hiding`` says whether a scheme does.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np

from .errors import VerificationError
from .field import Field
from .transcript import ProverChannel, VerifierChannel

if TYPE_CHECKING:
    from .security import Term


@attrs.frozen
class Evaluation:
    """A claimed evaluation t̃(point) = value (challenge-field elements)."""

    point: np.ndarray
    value: np.ndarray


@attrs.frozen
class SumTerm:
    """λ·t̃_item(point): ``item`` indexes the opening's items (challenge-field point and
    coefficient)."""

    item: int
    point: np.ndarray
    coefficient: np.ndarray


@attrs.frozen
class SumClaim:
    """Σ_j terms[j].coefficient · t̃_{terms[j].item}(terms[j].point) = value."""

    terms: list[SumTerm]
    value: np.ndarray


@attrs.define
class OpenItem:
    """Prover side of one committed tensor in a batched opening."""

    state: Any
    evals: list[Evaluation]


@attrs.define
class CheckItem:
    """Verifier side of one committed tensor in a batched opening."""

    commitment: bytes
    num_vars: int
    evals: list[Evaluation]


class CommitmentScheme(ABC):
    """Multilinear polynomial commitment scheme over a field (see module doc)."""

    #: registry name, e.g. ``"ligero"``
    name: str
    #: names of fields the scheme works over; empty = any
    fields: tuple[str, ...] = ()
    #: whether commitments/openings hide the tensor
    hiding: bool = False
    #: whether ``open``/``verify`` accept `SumClaim`s (keyword ``sums``)
    sum_claims: bool = False
    #: largest table (log2 entries) one commitment may hold; None: no limit.  The
    #: committer splits a stack that would exceed it (`Committer.flush_packed`)
    max_vars: int | None = None

    def __init__(self, field: Field, params: Mapping[str, Any] | None = None):
        self.field = field
        self.params = dict(params or {})

    @classmethod
    def supports(cls, field: Field) -> bool:
        return not cls.fields or field.name in cls.fields

    @classmethod
    def param_names(cls) -> tuple[str, ...]:
        """Config keys the scheme accepts under ``[commitment.<name>]``."""
        return ()

    def soundness(self, challenge_field: Field, elements: int | None = None
                  ) -> list[Term] | None:
        """The scheme's soundness terms (`zklora.zkcore.security.Term`) under its
        parameters: binding (hash, discrete log), proximity (queries) and, when
        ``elements`` (committed elements of the graph, hence an upper bound on any one
        committed table and on the number of claims) is given, its algebraic error in
        ``challenge_field``.  The verifier rejects a statement whose weakest term is below
        `zklora.zkcore.security.MIN_SECURITY_BITS`; ``None`` (the default) means the
        scheme states nothing, which the verifier rejects."""
        return None

    @abstractmethod
    def commitment_size(self, num_vars: int) -> int:
        """Exact byte length of a commitment to 2^num_vars elements."""

    @abstractmethod
    def commit(self, values: np.ndarray) -> tuple[bytes, Any]:
        """Commit to a flat base-field array of 2^n elements: (commitment bytes, state)."""

    @abstractmethod
    def open(self, ch: ProverChannel, items: Sequence[OpenItem]) -> None:
        """Write a batched opening proof for every item into the channel.  A scheme with
        ``sum_claims`` also takes ``sums`` (a sequence of `SumClaim`), by keyword."""

    @abstractmethod
    def verify(self, ch: VerifierChannel, items: Sequence[CheckItem]) -> None:
        """Read and check the batched opening; raise `VerificationError` on failure.  A
        scheme with ``sum_claims`` also takes ``sums``, by keyword."""


def check_item(scheme: str, E: Field, k: int, item: CheckItem, max_vars: int, p: int
               ) -> tuple[bytes, int, list[Evaluation]]:
    """A verifier's strict reading of one `CheckItem` (hostile input): a 32-byte
    commitment, 0 ≤ num_vars ≤ ``max_vars``, and each claim a point of num_vars canonical
    ``E`` elements (entries in [0, p)) with a value; `VerificationError` naming
    ``scheme`` and item ``k`` otherwise.  Returns (commitment, num_vars, claims as
    uint64 arrays)."""
    com = item.commitment
    if not isinstance(com, bytes | bytearray) or len(com) != 32:
        raise VerificationError(f"{scheme}: commitment {k} is not 32 bytes")
    n = item.num_vars
    if not isinstance(n, int | np.integer) or isinstance(n, bool) or not 0 <= n <= max_vars:
        raise VerificationError(f"{scheme}: commitment {k}: bad number of variables {n!r}")
    evs = []
    for ev in item.evals:
        try:
            point = np.asarray(ev.point)
            value = np.asarray(ev.value)
            ok = (point.dtype.kind in "ui" and value.dtype.kind in "ui"
                  and point.shape == (n,) + E.elem_shape and value.shape == E.elem_shape
                  and (point.size == 0 or (int(point.min()) >= 0 and int(point.max()) < p))
                  and int(value.min()) >= 0 and int(value.max()) < p)
        except (TypeError, ValueError, OverflowError):
            ok = False
        if not ok:
            raise VerificationError(f"{scheme}: claim on commitment {k} is not a point of "
                                    f"{n} canonical {E.name} elements and a value")
        evs.append(Evaluation(point.astype(np.uint64), value.astype(np.uint64)))
    return bytes(com), int(n), evs


def check_sum(scheme: str, E: Field, k: int, s: SumClaim, nvars: Sequence[int], p: int
              ) -> SumClaim:
    """A verifier's strict reading of `SumClaim` ``k`` on items of ``nvars`` variables:
    at least one term, each on an existing item with a point of that item's number of
    canonical ``E`` elements and a canonical coefficient, and a canonical value;
    `VerificationError` naming ``scheme`` otherwise.  Returns it with uint64 arrays."""
    def canon(a, shape) -> bool:
        return (a.dtype.kind in "ui" and a.shape == shape
                and (a.size == 0 or (int(a.min()) >= 0 and int(a.max()) < p)))

    terms = []
    try:
        value = np.asarray(s.value)
        ok = canon(value, E.elem_shape) and len(s.terms) > 0
        for t in s.terms if ok else ():
            i = t.item
            point, coef = np.asarray(t.point), np.asarray(t.coefficient)
            if not (isinstance(i, int | np.integer) and not isinstance(i, bool)
                    and 0 <= i < len(nvars) and canon(point, (nvars[i],) + E.elem_shape)
                    and canon(coef, E.elem_shape)):
                ok = False
                break
            terms.append(SumTerm(int(i), point.astype(np.uint64), coef.astype(np.uint64)))
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok:
        raise VerificationError(f"{scheme}: sum claim {k} is not a list of terms (item, "
                                f"point, coefficient) of canonical {E.name} elements and "
                                "a value")
    return SumClaim(terms, value.astype(np.uint64))
