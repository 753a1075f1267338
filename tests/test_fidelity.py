"""Fidelity of the proven training step against transformers + peft float32 training.

The integer spec (the graph's own forward: `llama_train.integer_train`) and
`reference.reference_train` run on the same tiny model, the same adapter (B ≠ 0, so both
A and B get gradients), the same 4 × 32 batch and the same hyper-parameters; the figure
is the relative Frobenius error of the adapter update (new − old, all adapter tensors
together).  Target ≤ 5 % at the default scales.

Run: .venv/bin/python -m pytest -m slow -s tests/test_fidelity.py   (figures in docs/training.md)
"""

from __future__ import annotations

import pytest

from zklora.plugins.models import llama_train as lt
from zklora.plugins.models.hf import PEFT_PREFIX, TARGETS
from zklora.plugins.models.llama import ForwardSpec, random_batch
from zklora.plugins.models.tiny import tiny_adapter, tiny_arch, tiny_weights
from zklora.zkcore.quant import QuantConfig

pytestmark = pytest.mark.slow


def measure(steps: int, optimizer: str = "adamw", lr: float = 1e-3, seed: int = 0,
            kv_heads: int = 4) -> dict:
    """Update error, per-step losses and the step-1 gradient error of the integer run."""
    from zklora.plugins.models.reference import peft_model, reference_train, relative_frobenius

    arch = tiny_arch(kv_heads)
    ck, ad = tiny_weights(arch), tiny_adapter(arch, init="random")
    ids = random_batch(arch.vocab_size, 4, 32, seed)
    optim = lt.OptimSpec(optimizer=optimizer, lr=lr)
    spec = lt.TrainSpec(ForwardSpec(arch, ad.spec, QuantConfig(), 4, 32), steps, optim)
    inputs = lt.train_inputs(spec, ck, ad, [ids])
    _, res = lt.integer_train(spec, inputs)
    keys = lt.lora_keys(spec)
    before = lt.adapter_from_values(spec, inputs, [f"l{i}.{t}.{ab}" for i, t, ab in keys])
    after = lt.adapter_from_values(spec, res.values)
    delta = {k: after.flat()[k].double() - v.double() for k, v in before.flat().items()}
    ref = reference_train(ck, ad, ids, steps, **optim.torch_kwargs())
    # step-1 gradients: integer dA/dB against torch's autograd
    pm = peft_model(ck, ad)
    pm.train()
    pm(input_ids=ids, labels=ids).loss.backward()
    tg = {n.replace(".default", ""): p.grad.double() for n, p in pm.named_parameters()
          if p.requires_grad}
    ig = {f"{PEFT_PREFIX}{i}.{TARGETS[t]}.lora_{ab}.weight":
          res.values[f"s0/l{i}.{t}.bwd/d{ab}/Y"].double() / 2 ** spec.grad_scale
          for i, t, ab in keys}
    return {"update": relative_frobenius(delta, ref.delta(steps)),
            "grad": relative_frobenius(ig, tg),
            "losses": res.loss_floats(spec.fwd.quant.act_scale), "ref_losses": ref.losses}


@pytest.mark.parametrize("steps", [1, 3])
def test_fidelity_adamw(steps):
    r = measure(steps)
    print(f"\nadamw, {steps} step(s): update rel. Frobenius error {r['update']:.4f}, "
          f"gradient {r['grad']:.2e}, losses {r['losses']} vs {r['ref_losses']}")
    assert r["grad"] < 5e-3
    assert r["update"] <= 0.05
    for a, b in zip(r["losses"], r["ref_losses"]):
        assert abs(a - b) < 1e-3


@pytest.mark.parametrize("optimizer, lr", [("adam", 1e-3), ("sgd", 1e-1)])
def test_fidelity_other_optimisers(optimizer, lr):
    r = measure(3, optimizer, lr)
    print(f"\n{optimizer} lr {lr}, 3 steps: update rel. Frobenius error {r['update']:.4f}")
    assert r["update"] <= 0.05


def test_fidelity_gqa():
    r = measure(3, kv_heads=2)
    print(f"\nadamw GQA (4 heads / 2 KV heads), 3 steps: update {r['update']:.4f}")
    assert r["update"] <= 0.05
