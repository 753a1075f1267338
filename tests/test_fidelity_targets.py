"""Issue 11, Fidelity (acceptance 3): the integer training step against transformers + peft
float32 on the same checkpoint, adapter, batch and hyper-parameters, WITH THE DEFAULT
SETTINGS (no run parameter changed).

Setting (`tests/bench/fidelity_analysis.py`, ``Setup``): GQA (6 heads / 3 KV heads of dim
16), non-power-of-two dims (vocab 100, hidden 96, FFN 80; padded inside the prover), 2
layers, LoRA r = 8, α = 16 on all seven targets with B ≠ 0, one 2 × 16 batch reused at
every step, torch's AdamW defaults (lr 1e-3, betas (0.9, 0.999), eps 1e-8, wd 0.01).

Targets: relative Frobenius error of the adapter update ≤ 2 % after 1 step and ≤ 1 %
after 3 steps; logits ≤ 1e-3 relative.

The defaults that meet them (docs/fidelity.md): SiLU and SiLU' interpolated linearly
between the 2^16 table points (``silu_lerp`` / ``silu_grad_lerp``), weights at 2^−20
(``QuantConfig.weight_scale`` 20) and the RMSNorm rsqrt's 18-bit mantissa where it fits
(``llama.RMS_PRECISE``).  The 1-step figure counts sign flips of near-zero
gradients (Adam's first update is lr·g/(|g| + ε) ≈ ±lr; with n = 19 200 adapter elements
one flip gives ≈ 1.4 %, two ≈ 1.9–2.0 %), so it is a small random number per seed:
`test_targets_on_16_seeds` asserts the targets on at least 14 of the 16 seeds (15
measured) and the 3-step and logits targets on all of them.

Run: .venv/bin/python -m pytest -m slow -s tests/test_fidelity_targets.py  (≈ 2 min)
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

_PATH = Path(__file__).parent / "bench" / "fidelity_analysis.py"


@pytest.fixture(scope="module")
def fa():
    spec = importlib.util.spec_from_file_location("fidelity_analysis", _PATH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_targets_with_defaults(fa):
    """The acceptance setup (seed 0), default settings: all three targets."""
    m = fa.measure(fa.Setup(), fa.Optim(), 3, {})
    print(f"\ndefaults, seed 0: {fa.summary(m)}")
    assert m["logits"] <= fa.TARGET_LOGITS          # 4.6e-5 measured
    assert m["update"][0] <= fa.TARGET_1STEP        # 0.0006 measured (0 flips)
    assert m["update"][2] <= fa.TARGET_3STEP        # 0.0005 measured
    # what drives the 1-step figure: the gradient error before the optimiser
    assert m["grad"][0] <= 2.5e-4                   # 1.77e-4 measured


def test_targets_on_16_seeds(fa):
    """Other weights and batches (``Setup(seed, seed)``, seeds 0–15), default settings:
    the 3-step and logits targets everywhere, the 1-step target at ≥ 14 of 16 seeds
    (measured: 15; seed 2 at 2.39 %, 3 flips)."""
    rows = fa.seeds_table({}, range(16))
    for r in rows:
        print(f"seed {r['seed']:2d}: logits {r['logits']:.2e} grad {r['grad']:.2e} "
              f"update {r['update'][0]:.4f} / {r['update'][2]:.4f} flips {r['flips']}")
    assert all(r["logits"] <= fa.TARGET_LOGITS for r in rows)
    assert all(r["update"][2] <= fa.TARGET_3STEP for r in rows)
    assert sum(fa.meets(r) for r in rows) >= 14
    assert max(r["update"][0] for r in rows) <= 0.025


def test_before_is_worse(fa):
    """The code before (weights 2^−16, table-only SiLU at input scale 2^−8, RMSNorm
    mantissa 14 bits): 3.77 % /
    1.38 % / 7.7e-4 at seed 0, gradient 1.14e-3 — the targets missed; kept as the
    comparison the defaults are measured against."""
    m = fa.measure(fa.Setup(), fa.Optim(), 3, fa.BEFORE_KNOBS)
    print(f"\nbefore, seed 0: {fa.summary(m)}")
    assert m["update"][0] > fa.TARGET_1STEP
    assert m["grad"][0] > 1e-3
