"""Issue 11, Fidelity (acceptance 3): the integer training step against transformers + peft
float32 on the same checkpoint, adapter, batch and hyper-parameters.

Setting (`tests/bench/fidelity_analysis.py`, ``Setup``): GQA (6 heads / 3 KV heads of dim
16), non-power-of-two dims (vocab 100, hidden 96, FFN 80; padded inside the prover), 2
layers, LoRA r = 8, α = 16 on all seven targets with B ≠ 0, one 2 × 16 batch reused at
every step, torch's AdamW defaults (lr 1e-3, betas (0.9, 0.999), eps 1e-8, wd 0.01).

Targets: relative Frobenius error of the adapter update ≤ 2 % after 1 step and ≤ 1 %
after 3 steps; logits ≤ 1e-3 relative.

* `test_targets_with_chosen_settings` — met with ``weight_scale = 20`` (a run parameter)
  AND the SiLU table at input scale 12 over 20 bits instead of 8 over 16 — a code
  change in llama.py's ``add_swiglu`` call (or ops/silu.py's defaults) proposed in
  docs/fidelity.md, applied here by `fidelity_analysis.patched` for the measurement
  (restored afterwards; once llama.py passes the values itself the patch is a no-op).
* `test_chosen_settings_other_seeds` — the same settings on other weights and batches:
  the 3-step and logits targets hold; the 1-step target does not at every seed (3 of
  16 measured exceed it; the figure asserted there is the one reached, not 2 %).
* `test_defaults_today` — with today's code no run parameter alone reaches the update
  targets (the SiLU table dominates the gradient error): the figures reached are
  asserted as they are, NOT the targets.

The 1-step figure counts sign flips: Adam's first update is lr·g/(|g| + ε) ≈ ±lr, so
with n = 19 200 adapter elements one flip gives √(4/n) = 1.44 %, two give 2.04 %.

Run: .venv/bin/python -m pytest -m slow -s tests/test_fidelity_targets.py  (≈ 1.5 min)
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


def _report(label, m, fa):
    print(f"\n{label}: {fa.summary(m)}")


def _chosen(fa, seed):
    m = fa.measure(fa.Setup(seed=seed, data_seed=seed), fa.Optim(), 3,
                   dict(fa.CHOSEN_KNOBS, **fa.CHOSEN_PATCH))
    _report(f"chosen settings, seed {seed}", m, fa)
    return m


def test_targets_with_chosen_settings(fa):
    """The acceptance setup (seed 0): all three targets."""
    m = _chosen(fa, 0)
    assert m["logits"] <= fa.TARGET_LOGITS          # 9.6e-5 measured
    assert m["update"][0] <= fa.TARGET_1STEP        # 0.0141 measured (1 flip)
    assert m["update"][2] <= fa.TARGET_3STEP        # 0.0052 measured
    # what drives the 1-step figure: the gradient before the optimiser (2.36e-4) and the
    # number of elements whose sign it flips
    assert m["grad"][0] <= 3e-4
    assert sum(f["flips"] + f["zeros"] for f in m["flips"].values()) <= 1


@pytest.mark.parametrize("seed", [5, 10])
def test_chosen_settings_other_seeds(fa, seed):
    """Other weights/batches with the same settings.  Over seeds 0–15 the 3-step and
    logits targets held every time (3 steps ≤ 0.0084, logits ≤ 1.1e-4), the 1-step
    target in 13 of 16: seeds 4, 5 (2 sign flips: 0.02004, 0.0202) and 10 (3 flips:
    0.0243) are the exceptions; two of them are checked here.  The 1-step figure is
    √(4·flips/n); its expectation at the chosen settings is ≈ 1.0–2.3 %
    (`fidelity_analysis.summary`), so ≤ 2 % at every seed needs a smaller gradient
    error than any setting found reaches (docs/fidelity.md: the rest sits in ops'
    arithmetic — softmax P at 2^−16, RMSNorm's rsqrt mantissa, the attention
    backward).  Asserted here: the 3-step and logits targets, and the 1-step figure
    as measured (≤ 2.5 %, NOT the 2 % target)."""
    m = _chosen(fa, seed)
    assert m["logits"] <= fa.TARGET_LOGITS
    assert m["update"][2] <= fa.TARGET_3STEP
    assert m["update"][0] <= 0.025                  # target 0.02: NOT met at this seed


def test_defaults_today(fa):
    """Today's defaults (QuantConfig(), act_bits 10, master_scale 24, SiLU table 8/16).

    NOT the targets: measured 3.77 % (1 step, 7 sign flips), 1.38 % (3 steps), logits
    7.7e-4, gradient 1.14e-3 — and no run parameter alone does better (the sweep in
    docs/fidelity.md): the SiLU table's input resolution 2^−8 dominates.  These bounds
    only catch a regression; tighten them when the SiLU change lands."""
    m = fa.measure(fa.Setup(), fa.Optim(), 3, {})
    _report("defaults", m, fa)
    assert m["logits"] <= fa.TARGET_LOGITS          # met
    assert m["update"][0] <= 0.04                   # target 0.02: NOT met
    assert m["update"][2] <= 0.015                  # target 0.01: NOT met
    assert m["grad"][0] <= 1.3e-3
