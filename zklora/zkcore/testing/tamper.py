"""Tamper testing: run a cheating prover on a modified witness and check the verifier.

`prove_tampered` runs the honest forward pass, lets the test change any witness value
(one element off by one, a swapped advice tensor, …), then proves with the prover's
self-checks off (`zklora.zkcore.selfcheck.disabled`) so that a proof *is* produced.
`assert_rejected` verifies it and fails the test unless the verifier rejects.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import torch

from .. import graph as graphlib
from .. import selfcheck
from ..errors import ProverError, ZkLoraError


def changed_message(label: str, index: int = 0):
    """A stand-in for `ProverChannel.send_field` (patch it in with `mock.patch.object`)
    that adds one to element ``index`` of the first message labelled ``label``; the changed
    value is what the prover's transcript absorbs, as a cheating prover would send it.
    Returns (send_field, hits): ``hits`` lists the label once it was changed."""
    import numpy as np

    from ..transcript import ProverChannel

    orig = ProverChannel.send_field
    hits: list[str] = []

    def send_field(self, lab, field, a):
        if lab == label and not hits:
            hits.append(lab)
            a = np.array(a, copy=True)
            flat = a.reshape((-1,) + field.elem_shape)
            flat[index] = field.add(flat[index], field.scalar(1))
        return orig(self, lab, field, a)

    return send_field, hits


def prove_tampered(g: graphlib.Graph, inputs: Mapping[str, torch.Tensor], backend,
                   statement: Mapping, tamper: Callable[[dict[str, torch.Tensor]], None]):
    """Proof (stream, sections) of ``g`` for a witness changed by ``tamper``; None if
    even the cheating prover cannot produce one (it raised `ProverError`)."""
    values = graphlib.forward(g, inputs, backend.registry)
    values = {k: v.clone() for k, v in values.items()}
    tamper(values)
    with selfcheck.disabled():
        try:
            return graphlib.prove(g, inputs, backend, statement, values=values)
        except ProverError:
            return None


def assert_rejected(g: graphlib.Graph, inputs, backend, statement, tamper, *,
                    allow_refusal: bool = False) -> str:
    """The verifier rejects the cheating prover's proof; returns the rejection message.

    By default the cheating prover must produce a proof (so that the *verifier* is what
    is tested); ``allow_refusal`` accepts a prover that cannot produce one at all."""
    out = prove_tampered(g, inputs, backend, statement, tamper)
    if out is None:
        if not allow_refusal:
            raise AssertionError("the cheating prover produced no proof: the test would not "
                                 "exercise the verifier")
        return "prover could not produce a proof"
    stream, sections = out
    try:
        graphlib.verify(g, stream, backend, statement, sections)
    except ZkLoraError as e:
        return str(e)
    raise AssertionError("the verifier accepted a proof of a tampered witness")


def bump(name: str, index=0, delta: int = 1):
    """A tamper function: add ``delta`` to one element (flat ``index``) of ``name``."""

    def f(values):
        v = values[name].reshape(-1)
        v[index] += delta

    return f


def prove_and_verify(g: graphlib.Graph, inputs, backend, statement: Mapping | None = None):
    """Completeness: prove honestly and verify; returns (stream, sections)."""
    statement = statement or {}
    stream, sections = graphlib.prove(g, inputs, backend, statement)
    graphlib.verify(g, stream, backend, statement, sections)
    return stream, sections


def assert_flips_rejected(g: graphlib.Graph, stream: bytes, sections, backend,
                          statement: Mapping | None = None, *, count: int = 12,
                          start: int = 0, bit: int = 0x04) -> None:
    """Flip one bit in ``count`` places spread over the proof stream: every altered proof
    must be rejected with a `ZkLoraError` (never accepted, never another exception)."""
    statement = statement or {}
    for pos in range(start, len(stream), max(1, len(stream) // count)):
        bad = bytearray(stream)
        bad[pos] ^= bit
        try:
            graphlib.verify(g, bytes(bad), backend, statement, sections)
        except ZkLoraError:
            continue
        raise AssertionError(f"the verifier accepted a proof with byte {pos} altered")
