"""The built-in tiny LLaMA: the embedded default model of the CLI, tests and benchmarks.

vocab 256, hidden 64, FFN 128, 2 layers, 4 heads of dim 16 (KV heads configurable for
grouped-query attention), RoPE θ = 10000, RMSNorm ε = 1e-5; LoRA r = 4, α = 8 on q, v.

Weights are seeded and reproducible without transformers (torch.Generator on the CPU):
linear weights ~ N(0, 1/fan_in) (activations of order 1, like a trained model's, rather
than transformers' untrained N(0, 0.02²) which gives near-constant logits), embeddings
~ N(0, 1), RMSNorm gains 1 + N(0, 0.1²).  LoRA A ~ N(0, 1/in); B is zero as peft
initialises it (``init="peft"``) or ~ N(0, 0.1²/r) (``init="random"``, so that a
forward pass exercises the adapter).
"""

from __future__ import annotations

from pathlib import Path

import torch

from .hf import Adapter, Checkpoint, LlamaArch, LoraPair, LoraSpec, check_weights, save_adapter

TINY = dict(vocab_size=256, hidden_size=64, intermediate_size=128, num_layers=2, num_heads=4,
            num_kv_heads=4, head_dim=16, rope_theta=10000.0, rms_norm_eps=1e-5,
            max_position_embeddings=256, tie_word_embeddings=False)


def tiny_arch(num_kv_heads: int = 4, **overrides) -> LlamaArch:
    """The tiny architecture; ``num_kv_heads`` < 4 gives GQA."""
    d = dict(TINY)
    d["num_kv_heads"] = num_kv_heads
    d.update(overrides)
    return LlamaArch(**d)


def tiny_lora(r: int = 4, alpha: float = 8.0, targets: tuple[str, ...] = ("q", "v"),
              use_rslora: bool = False) -> LoraSpec:
    return LoraSpec(r=r, alpha=alpha, targets=tuple(targets), use_rslora=use_rslora)


def _normal(g: torch.Generator, shape, std: float) -> torch.Tensor:
    return torch.randn(tuple(shape), generator=g, dtype=torch.float32) * std


def tiny_weights(arch: LlamaArch | None = None, seed: int = 0) -> Checkpoint:
    """Seeded random weights for ``arch`` (default: `tiny_arch`)."""
    arch = arch or tiny_arch()
    g = torch.Generator().manual_seed(seed)
    w = {}
    for name, shape in arch.expected_shapes().items():  # insertion order is deterministic
        if name.endswith("norm.weight"):
            w[name] = 1.0 + _normal(g, shape, 0.1)
        elif name == "model.embed_tokens.weight":
            # a tied embedding doubles as the LM head: scale it like one (std 1.0 would
            # give logits of std sqrt(hidden), past the softmax's declared ranges)
            w[name] = _normal(g, shape, shape[1] ** -0.5 if arch.tie_word_embeddings else 1.0)
        else:
            w[name] = _normal(g, shape, shape[1] ** -0.5)
    check_weights(arch.expected_shapes(), w, "tiny")
    return Checkpoint(arch, w)


def tiny_adapter(arch: LlamaArch | None = None, spec: LoraSpec | None = None, seed: int = 1,
                 init: str = "random") -> Adapter:
    """Seeded adapter for ``arch``; ``init`` is "random" (B ≠ 0) or "peft" (B = 0)."""
    arch = arch or tiny_arch()
    spec = spec or tiny_lora()
    if init not in ("random", "peft"):
        raise ValueError(f"init must be 'random' or 'peft', got {init!r}")
    g = torch.Generator().manual_seed(seed)
    pairs = {}
    for i in range(arch.num_layers):
        for t in spec.targets:
            out_f, in_f = arch.linear_shape(t)
            a = _normal(g, (spec.r, in_f), in_f ** -0.5)
            b = _normal(g, (out_f, spec.r), 0.1 / spec.r ** 0.5)
            pairs[(i, t)] = LoraPair(a, b if init == "random" else torch.zeros_like(b))
    ad = Adapter(spec, pairs)
    ad.check(arch, "tiny adapter")
    return ad


def write_tiny_model(path: str | Path, ckpt: Checkpoint | None = None) -> Path:
    """Write ``ckpt`` (default: `tiny_weights`) as a HF directory with transformers'
    ``LlamaForCausalLM.save_pretrained`` (offline)."""
    from .reference import hf_model
    ckpt = ckpt or tiny_weights()
    path = Path(path)
    hf_model(ckpt).save_pretrained(str(path), safe_serialization=True)
    return path


def write_tiny_adapter(path: str | Path, adapter: Adapter | None = None) -> Path:
    path = Path(path)
    save_adapter(path, adapter or tiny_adapter())
    return path
