"""Float32 reference: transformers' own ``LlamaForCausalLM`` + peft, the baseline the
fixed-point spec's fidelity is measured against (never assumed).

* `reference_forward` — logits and the causal-LM loss (``labels = input_ids``;
  transformers shifts them: position t predicts token t+1; mean over all predicted
  tokens);
* `reference_train` — one or several float training steps of the LoRA parameters only
  (base frozen) with ``torch.optim.AdamW`` (or Adam / SGD), returning the losses, the
  adapter after each step and the update (new − old);
* `relative_frobenius` — ‖a − b‖_F / ‖b‖_F over all adapter tensors together.

transformers/peft are imported lazily (slow import); nothing touches the network.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs
import torch

from .hf import TARGETS, Adapter, Checkpoint, LlamaArch, adapter_from_state_dict


def hf_config(arch: LlamaArch):
    """transformers' LlamaConfig for ``arch`` (float32, eager attention; its RoPE
    variant passed as ``rope_scaling``, which transformers 4 and 5 both read)."""
    from transformers import LlamaConfig
    cfg = LlamaConfig(
        vocab_size=arch.vocab_size, hidden_size=arch.hidden_size,
        intermediate_size=arch.intermediate_size, num_hidden_layers=arch.num_layers,
        num_attention_heads=arch.num_heads, num_key_value_heads=arch.num_kv_heads,
        head_dim=arch.head_dim, rope_theta=arch.rope_theta, rms_norm_eps=arch.rms_norm_eps,
        max_position_embeddings=arch.max_position_embeddings,
        tie_word_embeddings=arch.tie_word_embeddings, hidden_act="silu",
        attention_bias=False, mlp_bias=False, attention_dropout=0.0,
        rope_scaling=arch.rope_scaling_dict(),  # None (default RoPE), linear or llama3
    )
    cfg.architectures = ["LlamaForCausalLM"]
    cfg._attn_implementation = "eager"
    return cfg


def hf_model(ckpt: Checkpoint):
    """``LlamaForCausalLM`` holding the checkpoint's weights (float32, eval mode)."""
    from transformers import LlamaForCausalLM
    torch.manual_seed(0)  # init values are overwritten; keep construction reproducible
    model = LlamaForCausalLM(hf_config(ckpt.arch)).to(torch.float32)
    missing, unexpected = model.load_state_dict(ckpt.weights, strict=False)
    missing = [k for k in missing if not (ckpt.arch.tie_word_embeddings and k == "lm_head.weight")
               and "rotary_emb" not in k]
    if missing or unexpected:
        raise ValueError(f"weights do not match the model: missing {missing[:3]}, "
                         f"unexpected {unexpected[:3]}")
    if ckpt.arch.tie_word_embeddings:
        model.tie_weights()
    return model.eval()


def peft_model(ckpt: Checkpoint, adapter: Adapter):
    """The base model wrapped by peft with ``adapter`` loaded (LoRA params trainable)."""
    import peft
    spec = adapter.spec
    cfg = peft.LoraConfig(
        r=spec.r, lora_alpha=spec.alpha, lora_dropout=0.0, use_rslora=spec.use_rslora,
        bias="none", target_modules=[TARGETS[t].split(".")[-1] for t in spec.targets],
    )
    pm = peft.get_peft_model(hf_model(ckpt), cfg)
    res = peft.set_peft_model_state_dict(pm, adapter.peft_state_dict())
    if res.unexpected_keys:
        raise ValueError(f"adapter tensors not used by peft: {res.unexpected_keys[:3]}")
    return pm.eval()


def current_adapter(pm, like: Adapter) -> Adapter:
    """The peft model's adapter tensors, as an `Adapter` (detached copies)."""
    import peft
    sd = {k: v.detach().clone() for k, v in peft.get_peft_model_state_dict(pm).items()}
    return adapter_from_state_dict(like.spec, sd, "peft model")


@attrs.frozen
class RefForward:
    logits: torch.Tensor  # (batch, seq, vocab) float32
    loss: float


def reference_forward(ckpt: Checkpoint, adapter: Adapter | None,
                      input_ids: torch.Tensor) -> RefForward:
    """Float32 forward with labels = input_ids (shifted inside transformers)."""
    model = peft_model(ckpt, adapter) if adapter is not None else hf_model(ckpt)
    ids = torch.as_tensor(input_ids, dtype=torch.long)
    with torch.no_grad():
        out = model(input_ids=ids, labels=ids)
    return RefForward(out.logits.detach().to(torch.float32), float(out.loss))


@attrs.frozen
class RefTrain:
    losses: list[float]            # loss before each step's update
    adapters: list[Adapter]        # adapter after each step
    initial: Adapter

    def delta(self, step: int | None = None) -> dict[str, torch.Tensor]:
        """new − old per adapter tensor after ``step`` steps (default: all)."""
        after = self.adapters[-1 if step is None else step - 1].flat()
        before = self.initial.flat()
        return {k: after[k] - before[k] for k in before}


def make_optimizer(params, optimizer: str = "adamw", lr: float = 1e-3,
                   betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                   weight_decay: float = 0.01):
    """torch's AdamW / Adam / SGD with the given hyper-parameters (AdamW's defaults)."""
    if optimizer == "adamw":
        return torch.optim.AdamW(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
    if optimizer == "adam":
        return torch.optim.Adam(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
    if optimizer == "sgd":
        return torch.optim.SGD(params, lr=lr, weight_decay=weight_decay)
    raise ValueError(f"optimizer {optimizer!r} not in adamw, adam, sgd")


def reference_train(ckpt: Checkpoint, adapter: Adapter,
                    batches: torch.Tensor | Sequence[torch.Tensor], steps: int = 1,
                    **opt: object) -> RefTrain:
    """``steps`` float32 LoRA training steps (mean causal-LM loss, base frozen).

    ``batches``: one (batch, seq) tensor used at every step, or one per step.
    ``opt``: `make_optimizer` keywords (optimizer, lr, betas, eps, weight_decay).
    """
    if isinstance(batches, torch.Tensor):
        batches = [batches] * steps
    if len(batches) < steps:
        raise ValueError(f"{len(batches)} batches for {steps} steps")
    pm = peft_model(ckpt, adapter)
    pm.train()
    params = [p for p in pm.parameters() if p.requires_grad]
    optim = make_optimizer(params, **opt)  # type: ignore[arg-type]
    losses, adapters = [], []
    for t in range(steps):
        ids = torch.as_tensor(batches[t], dtype=torch.long)
        optim.zero_grad(set_to_none=True)
        loss = pm(input_ids=ids, labels=ids).loss
        loss.backward()
        optim.step()
        losses.append(float(loss.detach()))
        adapters.append(current_adapter(pm, adapter))
    return RefTrain(losses, adapters, adapter)


def relative_frobenius(approx: Mapping[str, torch.Tensor],
                       ref: Mapping[str, torch.Tensor]) -> float:
    """‖approx − ref‖_F / ‖ref‖_F over all tensors together (same keys)."""
    if set(approx) != set(ref):
        raise ValueError("the two adapter dicts have different tensors")
    num = sum(float(((approx[k].double() - ref[k].double()) ** 2).sum()) for k in ref)
    den = sum(float((ref[k].double() ** 2).sum()) for k in ref)
    return (num / den) ** 0.5 if den else float("inf") if num else 0.0
