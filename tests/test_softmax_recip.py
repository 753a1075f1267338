"""The softmax's per-row reciprocal (issue 13): ρ = ⌊2^(s+k)/S⌋ certified per row, P =
⌊e·ρ/2^k⌋ with one k-bit remainder per entry (docs/soundness.md §3.8)."""

from __future__ import annotations

import pytest
import torch

from zklora.plugins.ops.softmax import (
    causal_mask,
    recip_bits,
    row_cert_bits,
    softmax_forward,
    split_limbs,
    sum_bits,
)
from zklora.zkcore.errors import ConfigError
from zklora.zkcore.testing.tamper import assert_rejected

from .test_softmax_op import SM, XS, softmax_graph, softmax_wit


def test_recip_bits_defaults_and_long_rows():
    assert recip_bits(16, 64) == 32 and recip_bits(16, 4096) == 32
    assert recip_bits(16, 1 << 17) == 60 - 33          # a 128k vocabulary: k = 27
    assert row_cert_bits(16, 64) == 32 and sum_bits(16, 64) == 22
    with pytest.raises(ConfigError):
        recip_bits(16, 1 << 44)


@pytest.mark.parametrize("seed", range(3))
def test_reciprocal_definition_and_closeness(seed):
    """ρ, σ, g, P, rem as defined; P within 1 of ⌊e·2^s/S⌋ (equal but for a fraction
    below 2^(s+1−k)); rows normalised."""
    gen = torch.Generator().manual_seed(seed)
    x = (torch.randn(2, 3, 32, 32, generator=gen) * 4 * (1 << 34)).round().to(torch.int64)
    mask = causal_mask(32)
    s = 16
    out = softmax_forward(x, mask, scale=s, shift=18, kappa=1, digit_bits=14, exp_scale=18)
    k = recip_bits(s, 32)
    S, e, rho, P = out["S"], out["e"], out["rho"], out["P"]
    assert torch.equal(rho, (1 << (s + k)) // S)
    sig = (1 << (s + k)) - rho * S
    assert bool((sig >= 0).all()) and bool((sig < S).all())
    wb = row_cert_bits(s, 32)
    for name, val in (("sig", sig), ("g", S - 1 - sig)):
        for a, b in zip(out[name], split_limbs(val, wb)):
            assert torch.equal(a, b)
    assert torch.equal(P, (e * rho[..., None]) >> k)
    rem = e * rho[..., None] - (P << k)
    assert torch.equal(sum(v << (16 * i) for i, v in enumerate(out["rem"])), rem)
    exact = (e << s) // S[..., None]
    diff = exact - P
    assert int(diff.min()) >= 0 and int(diff.max()) <= 1
    assert int((diff != 0).sum()) <= max(1, P.numel() >> 10)
    rs = P.sum(-1)
    n = mask.sum(-1).expand_as(rs)
    assert bool((rs <= 1 << s).all()) and bool((rs >= (1 << s) - n).all())


@pytest.mark.parametrize("step", [1, -1])
def test_reciprocal_off_by_one_rejected(gold, step):
    """ρ ± 1 on a row with σ ∓ S and g ± S (both row relations (G) hold), P and rem of
    the row recomputed from the forged ρ ((F) holds): σ (step +1) or g (step −1) leaves
    its limb range."""
    g, names = softmax_graph()
    s, lb, L = SM["scale"], SM["limb_bits"], XS[-1]
    k, wb = recip_bits(s, L, lb), row_cert_bits(s, L, lb)
    row = 3

    def tamper(v):
        S = int(v[names["S"]].reshape(-1)[row])
        rho = int(v[names["rho"]].reshape(-1)[row]) + step
        v[names["rho"]].reshape(-1)[row] = rho
        sig = (1 << (s + k)) - rho * S
        gg = S - 1 - sig
        assert (sig < 0) if step > 0 else (gg < 0)
        for kind, val in (("sig", sig), ("g", gg)):      # limbs recompose the forged value
            top = len(split_limbs(torch.tensor(0), wb, lb)) - 1
            for i in range(top + 1):
                v[names[f"{kind}{i}"]].reshape(-1)[row] = 0
            v[names[f"{kind}0"]].reshape(-1)[row] = val
        e = v[names["e"]].reshape(-1, L)[row]
        num = e * rho
        P = num >> k
        v[names["P"]].reshape(-1, L)[row] = P
        for i, limb in enumerate(split_limbs(num - (P << k), k, lb)):
            v[names[f"rem{i}"]].reshape(-1, L)[row] = limb

    msg = assert_rejected(g, softmax_wit(), gold, {}, tamper)
    assert "lookup" in msg or "range" in msg or "sm/" in msg, msg


@pytest.mark.parametrize("shape", [(1, 8), (8,)])
def test_single_row_softmax_complete(gold, shape):
    """One row (the row zero-check over a single row, or none at all)."""
    from zklora.plugins.ops.softmax import add_softmax
    from zklora.zkcore.graph import Graph
    from zklora.zkcore.testing.tamper import prove_and_verify

    g = Graph()
    g.tensor("X", shape, "committed", (-(1 << 27), 1 << 27))
    names = add_softmax(g, "sm", "X", **SM)
    g.outputs = [names["P"]]
    gen = torch.Generator().manual_seed(2)
    w = {"X": (torch.randn(shape, generator=gen) * (1 << 24)).round().to(torch.int64)}
    prove_and_verify(g, w, gold)
