"""Checkpoint I/O: a local Hugging Face LLaMA directory and a peft LoRA adapter directory.

Only files are read — no hub access, no transformers import (safetensors + json).

* `load_model(dir)` — ``config.json`` (architecture ``LlamaForCausalLM``, or
  ``MistralForCausalLM`` without an active sliding window) and every ``*.safetensors``
  file (sharded checkpoints included) → `Checkpoint`: the validated `LlamaArch` and the
  float32 weights under transformers' names.  Linear weights keep torch's
  (out_features, in_features) orientation; a matmul Y = X·W uses ``W.T``.  Tied
  embeddings: ``lm_head.weight`` absent, or present and equal to the embedding.
  RoPE: ``default``, ``linear`` and ``llama3`` (`ROPE_TYPES`), any ``rope_theta``.
* `load_adapter(dir, arch)` — ``adapter_config.json`` + ``adapter_model.safetensors`` →
  `Adapter`: the validated `LoraSpec` and one `LoraPair` (A: (r, in), B: (out, r), peft's
  orientation) per (layer, target).  peft's forward is y = x·Wᵀ + s·(x·Aᵀ)·Bᵀ with
  s = α/r, or α/√r with rsLoRA.
* `save_adapter(dir, adapter)` — writes both files in peft's own format, so
  ``peft.PeftModel.from_pretrained(model, dir)`` loads it as is.
* `save_model(dir, arch, weights)` — a HF directory without transformers (config.json in
  the v4/v5-compatible subset + model.safetensors).

Every inconsistency is a `ConfigError` naming the file, key or tensor.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import attrs
import torch

from zklora.zkcore.errors import ConfigError

#: short target names ↔ (module path inside a decoder layer, in, out) keys
TARGETS: dict[str, str] = {
    "q": "self_attn.q_proj", "k": "self_attn.k_proj", "v": "self_attn.v_proj",
    "o": "self_attn.o_proj", "gate": "mlp.gate_proj", "up": "mlp.up_proj",
    "down": "mlp.down_proj",
}
_MODULE_TO_SHORT = {v.split(".")[-1]: k for k, v in TARGETS.items()}
PEFT_PREFIX = "base_model.model.model.layers."
SUPPORTED_ARCH = "LlamaForCausalLM"
#: architectures read as a LLaMA (Mistral: only without an active sliding window)
SUPPORTED_ARCHS = (SUPPORTED_ARCH, "MistralForCausalLM")
#: RoPE variants proven, and the parameters each takes (transformers' `rope_parameters`
#: keys; the tables follow transformers' ``ROPE_INIT_FUNCTIONS`` for that type)
ROPE_TYPES: dict[str, tuple[str, ...]] = {
    "default": (),
    "linear": ("factor",),
    "llama3": ("factor", "low_freq_factor", "high_freq_factor",
               "original_max_position_embeddings"),
}
#: cap on llama3's ``original_max_position_embeddings`` (a statement is untrusted input)
MAX_ORIGINAL_POSITIONS = 1 << 24
#: the canonical ``LlamaArch.rope_scaling`` of default RoPE
DEFAULT_ROPE: tuple[tuple[str, Any], ...] = (("rope_type", "default"),)


def _short(v: Any, n: int = 40) -> str:
    """repr of ``v``, cut to ``n`` characters (values from untrusted files)."""
    r = repr(v)
    return r if len(r) <= n else r[:n - 1] + "…"


def _finite(v: Any, key: str, source: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise ConfigError(f"{source}: {key} must be a finite number, got {_short(v)}")
    return float(v)


def rope_scaling_canon(rope: Any, source: str = "model config") -> tuple[tuple[str, Any], ...]:
    """The canonical, JSON-stable form of a RoPE variant: ``(("rope_type", t), (key,
    value), …)`` with the keys of ``ROPE_TYPES[t]`` in that order (floats, and an int
    ``original_max_position_embeddings``).

    Accepts None / "default" / "none", transformers' ``rope_scaling`` or
    ``rope_parameters`` dict (``type`` as an alias of ``rope_type``; ``rope_theta`` and
    ``partial_rotary_factor`` = 1 are allowed and left out) or the canonical pairs (as
    they come back from JSON, lists).  Anything else — an unknown type, a missing or an
    unknown key, a value transformers would compute nonsense from — is a one-line
    `ConfigError` naming ``source``."""
    if rope is None or rope in ("default", "none"):
        return DEFAULT_ROPE
    if isinstance(rope, (list, tuple)):
        try:
            d = {str(k): v for k, v in rope}
        except (TypeError, ValueError):
            raise ConfigError(f"{source}: rope_scaling {_short(rope)} is not a list of "
                              f"(key, value) pairs") from None
        if len(d) != len(rope):
            raise ConfigError(f"{source}: rope_scaling has a repeated key")
    elif isinstance(rope, Mapping):
        d = dict(rope)
    else:
        raise ConfigError(f"{source}: rope_scaling must be an object, got {_short(rope)}")
    rtype = d.pop("rope_type", None)
    alias = d.pop("type", None)
    rtype = rtype if rtype is not None else alias if alias is not None else "default"
    if not isinstance(rtype, str) or rtype not in ROPE_TYPES:
        raise ConfigError(f"{source}: RoPE type {_short(rtype)} unsupported (supported: "
                          f"{', '.join(ROPE_TYPES)})")
    d.pop("rope_theta", None)
    prf = d.pop("partial_rotary_factor", None)
    if prf is not None and prf != 1:
        raise ConfigError(f"{source}: partial_rotary_factor {_short(prf)} unsupported (only 1.0)")
    keys = ROPE_TYPES[rtype]
    extra = sorted(k for k in d if k not in keys)
    if extra:
        raise ConfigError(f"{source}: RoPE type {_short(rtype)} takes {list(keys) or 'no keys'}, "
                          f"not {_short(extra[0])}")
    missing = [k for k in keys if k not in d]
    if missing:
        raise ConfigError(f"{source}: RoPE type {_short(rtype)} needs {missing[0]!r}")
    out: list[tuple[str, Any]] = [("rope_type", rtype)]
    for k in keys:
        v = d[k]
        if k == "original_max_position_embeddings":
            whole = (isinstance(v, int) and not isinstance(v, bool)) or (
                isinstance(v, float) and math.isfinite(v) and v.is_integer())
            if not whole or not 0 < v <= MAX_ORIGINAL_POSITIONS:
                raise ConfigError(f"{source}: {k} must be an integer in [1, "
                                  f"{MAX_ORIGINAL_POSITIONS}], got {_short(v)}")
            out.append((k, int(v)))
        else:
            v = _finite(v, k, source)
            if v <= 0 or (k == "factor" and v < 1):
                raise ConfigError(f"{source}: RoPE {k} must be "
                                  f"{'≥ 1' if k == 'factor' else 'positive'}, got {_short(v)}")
            out.append((k, v))
    p = dict(out)
    if rtype == "llama3" and not p["high_freq_factor"] > p["low_freq_factor"]:
        raise ConfigError(f"{source}: RoPE llama3 needs high_freq_factor > low_freq_factor, "
                          f"got {p['high_freq_factor']} and {p['low_freq_factor']}")
    return tuple(out)


# -- model architecture -------------------------------------------------------------------


@attrs.frozen
class LlamaArch:
    """The shape-defining part of a LLaMA config (transformers' names in comments)."""

    vocab_size: int
    hidden_size: int
    intermediate_size: int
    num_layers: int                 # num_hidden_layers
    num_heads: int                  # num_attention_heads
    num_kv_heads: int               # num_key_value_heads
    head_dim: int
    rope_theta: float = 10000.0
    rms_norm_eps: float = 1e-5
    max_position_embeddings: int = 2048
    tie_word_embeddings: bool = False
    #: the RoPE variant, canonical (`rope_scaling_canon`): part of the statement, so it
    #: fixes the public RoPE tables; transformers' ``rope_scaling`` / ``rope_parameters``
    rope_scaling: tuple[tuple[str, Any], ...] = attrs.field(default=DEFAULT_ROPE,
                                                           converter=rope_scaling_canon)

    def __attrs_post_init__(self):
        for k in ("vocab_size", "hidden_size", "intermediate_size", "num_layers", "num_heads",
                  "num_kv_heads", "head_dim"):
            v = getattr(self, k)
            if not isinstance(v, int) or v <= 0:
                raise ConfigError(f"model config: {k} must be a positive integer, got {v!r}")
        if self.num_heads % self.num_kv_heads:
            raise ConfigError(f"model config: num_attention_heads {self.num_heads} is not a "
                              f"multiple of num_key_value_heads {self.num_kv_heads}")
        if self.head_dim % 2:
            raise ConfigError(f"model config: head_dim {self.head_dim} must be even for RoPE")
        theta = self.rope_theta
        if isinstance(theta, bool) or not isinstance(theta, (int, float)) \
                or not math.isfinite(theta) or theta <= 1:
            raise ConfigError(f"model config: rope_theta must be a finite number > 1, "
                              f"got {_short(theta)}")

    @property
    def rope_type(self) -> str:
        """``default``, ``linear`` or ``llama3``."""
        return str(self.rope_scaling[0][1])

    def rope_parameters(self) -> dict[str, Any]:
        """transformers' v5 ``rope_parameters`` (type, its parameters, ``rope_theta``)."""
        return {**dict(self.rope_scaling), "rope_theta": self.rope_theta}

    def rope_scaling_dict(self) -> dict[str, Any] | None:
        """transformers' v4 ``rope_scaling`` (None for default RoPE)."""
        return None if self.rope_type == "default" else dict(self.rope_scaling)

    @property
    def q_dim(self) -> int:
        return self.num_heads * self.head_dim

    @property
    def kv_dim(self) -> int:
        return self.num_kv_heads * self.head_dim

    def linear_shape(self, target: str) -> tuple[int, int]:
        """(out_features, in_features) of a projection, by short name."""
        h, f = self.hidden_size, self.intermediate_size
        return {"q": (self.q_dim, h), "k": (self.kv_dim, h), "v": (self.kv_dim, h),
                "o": (h, self.q_dim), "gate": (f, h), "up": (f, h), "down": (h, f)}[target]

    def expected_shapes(self) -> dict[str, tuple[int, ...]]:
        """Every weight of the checkpoint under transformers' names."""
        out: dict[str, tuple[int, ...]] = {
            "model.embed_tokens.weight": (self.vocab_size, self.hidden_size),
            "model.norm.weight": (self.hidden_size,),
        }
        if not self.tie_word_embeddings:
            out["lm_head.weight"] = (self.vocab_size, self.hidden_size)
        for i in range(self.num_layers):
            p = f"model.layers.{i}."
            out[p + "input_layernorm.weight"] = (self.hidden_size,)
            out[p + "post_attention_layernorm.weight"] = (self.hidden_size,)
            for t, mod in TARGETS.items():
                out[p + mod + ".weight"] = self.linear_shape(t)
        return out

    @classmethod
    def from_hf_config(cls, d: Mapping[str, Any], source: str = "config.json") -> LlamaArch:
        """Validate a transformers config dict (v4 or v5 layout).

        Read the way transformers 5 reads it: ``rope_scaling`` (v4) wins over
        ``rope_parameters`` (v5); ``rope_theta`` from that dict, else the top-level key.
        Refused, each with a one-line `ConfigError` naming ``source`` and the key: another
        architecture, biases, a non-SiLU activation, tensor-parallel slicing, an
        unsupported RoPE type or parameter, and Mistral's sliding-window attention."""
        archs = d.get("architectures") or []
        if len(archs) != 1 or archs[0] not in SUPPORTED_ARCHS:
            got = ", ".join(map(str, archs)) or f"model_type {d.get('model_type')!r}"
            raise ConfigError(f"{source}: unsupported architecture {got}; only "
                              f"{' and '.join(SUPPORTED_ARCHS)} are supported")
        mistral = archs[0] == "MistralForCausalLM"
        act = d.get("hidden_act", "silu")
        if act != "silu":
            raise ConfigError(f"{source}: hidden_act {act!r} unsupported (LLaMA uses 'silu')")
        for k in ("attention_bias", "mlp_bias"):
            if d.get(k):
                raise ConfigError(f"{source}: {k}=true is unsupported (the proven LLaMA "
                                  f"projections have no bias)")
        if d.get("pretraining_tp", 1) not in (1, None):
            raise ConfigError(f"{source}: pretraining_tp {d['pretraining_tp']} unsupported")
        rope = d.get("rope_scaling") or d.get("rope_parameters") or {}
        if not isinstance(rope, Mapping):
            raise ConfigError(f"{source}: rope_scaling must be an object, got {rope!r}")
        if d.get("partial_rotary_factor") not in (None, 1, 1.0):
            raise ConfigError(f"{source}: partial_rotary_factor {d['partial_rotary_factor']!r} "
                              f"unsupported (only 1.0)")
        top_omp = d.get("original_max_position_embeddings")
        if top_omp is not None and rope.get("original_max_position_embeddings",
                                            top_omp) != top_omp:
            raise ConfigError(f"{source}: original_max_position_embeddings {top_omp!r} "
                              f"differs from rope_scaling's "
                              f"{rope['original_max_position_embeddings']!r}")
        theta = rope.get("rope_theta", d.get("rope_theta", 10000.0))
        max_pos_default = 131072 if mistral else 2048  # transformers' config defaults
        try:
            rope_canon = rope_scaling_canon(rope, f"{source}: rope_scaling")
            max_pos = int(d.get("max_position_embeddings") or max_pos_default)
            if mistral:
                sw = d.get("sliding_window")
                if sw is not None and int(sw) < max_pos:
                    raise ConfigError(
                        f"{source}: sliding_window {sw} < max_position_embeddings {max_pos}: "
                        f"Mistral's sliding-window attention is unsupported (only full causal "
                        f"attention is proven); a checkpoint with sliding_window null is "
                        f"accepted")
            heads = int(d["num_attention_heads"])
            hidden = int(d["hidden_size"])
            return cls(
                vocab_size=int(d["vocab_size"]),
                hidden_size=hidden,
                intermediate_size=int(d["intermediate_size"]),
                num_layers=int(d["num_hidden_layers"]),
                num_heads=heads,
                num_kv_heads=int(d.get("num_key_value_heads") or heads),
                head_dim=int(d.get("head_dim") or hidden // heads),
                rope_theta=_finite(theta, "rope_theta", source),
                rms_norm_eps=float(d.get("rms_norm_eps", 1e-6)),
                max_position_embeddings=max_pos,
                tie_word_embeddings=bool(d.get("tie_word_embeddings", False)),
                rope_scaling=rope_canon,
            )
        except KeyError as e:
            raise ConfigError(f"{source}: missing key {e.args[0]!r}") from None
        except ZeroDivisionError:
            raise ConfigError(f"{source}: num_attention_heads must be positive") from None
        except (TypeError, ValueError) as e:
            raise ConfigError(f"{source}: {e}") from None

    def to_hf_config(self) -> dict[str, Any]:
        """A config.json both transformers 4.x and 5.x read as this architecture."""
        return {
            "architectures": [SUPPORTED_ARCH], "model_type": "llama",
            "vocab_size": self.vocab_size, "hidden_size": self.hidden_size,
            "intermediate_size": self.intermediate_size,
            "num_hidden_layers": self.num_layers, "num_attention_heads": self.num_heads,
            "num_key_value_heads": self.num_kv_heads, "head_dim": self.head_dim,
            "hidden_act": "silu", "rms_norm_eps": self.rms_norm_eps,
            "rope_theta": self.rope_theta, "rope_parameters": self.rope_parameters(),
            "rope_scaling": self.rope_scaling_dict(),
            "max_position_embeddings": self.max_position_embeddings,
            "tie_word_embeddings": self.tie_word_embeddings,
            "attention_bias": False, "mlp_bias": False, "torch_dtype": "float32",
        }


@attrs.define
class Checkpoint:
    """A validated base model: architecture and float32 weights (transformers' names)."""

    arch: LlamaArch
    weights: dict[str, torch.Tensor]

    def linear(self, layer: int, target: str) -> torch.Tensor:
        """The (out, in) weight of a projection."""
        return self.weights[f"model.layers.{layer}.{TARGETS[target]}.weight"]

    @property
    def lm_head(self) -> torch.Tensor:
        w = self.weights.get("lm_head.weight")
        return self.weights["model.embed_tokens.weight"] if w is None else w


def _read_json(path: Path) -> dict:
    if not path.is_file():
        raise ConfigError(f"{path}: file not found")
    try:
        d = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise ConfigError(f"{path}: not valid JSON ({e})") from None
    if not isinstance(d, dict):
        raise ConfigError(f"{path}: expected a JSON object")
    return d


def _load_safetensors(path: Path) -> dict[str, torch.Tensor]:
    from safetensors import SafetensorError
    from safetensors.torch import load_file
    try:
        return load_file(str(path))
    except (OSError, SafetensorError, ValueError) as e:
        raise ConfigError(f"{path}: cannot read safetensors ({e})") from None


def check_weights(expected: Mapping[str, tuple[int, ...]], weights: Mapping[str, torch.Tensor],
                  source: str, ignore: Iterable[str] = ()) -> None:
    """Every expected tensor present with its shape, nothing unexpected."""
    for name, shape in expected.items():
        if name not in weights:
            raise ConfigError(f"{source}: tensor {name} missing (expected shape {shape})")
        got = tuple(weights[name].shape)
        if got != tuple(shape):
            raise ConfigError(f"{source}: tensor {name} has shape {got}, the config "
                              f"implies {tuple(shape)}")
    extra = sorted(k for k in weights if k not in expected and not any(s in k for s in ignore))
    if extra:
        raise ConfigError(f"{source}: unexpected tensor {extra[0]}"
                          + (f" (and {len(extra) - 1} more)" if len(extra) > 1 else ""))


class LazyWeights(Mapping):
    """A checkpoint's weights read from its safetensors files on access (float32), one
    tensor at a time: nothing is held in memory but what the caller keeps.  Shapes come
    from the file headers (`shape`), so a checkpoint is validated without loading it."""

    def __init__(self, where: Mapping[str, Path], skip: Iterable[str] = ()):
        self._where = {k: f for k, f in where.items() if k not in set(skip)}

    def __getitem__(self, key: str) -> torch.Tensor:
        from safetensors import SafetensorError, safe_open
        f = self._where[key]
        try:
            with safe_open(str(f), framework="pt") as h:
                return h.get_tensor(key).to(torch.float32)
        except (OSError, SafetensorError, ValueError) as e:
            raise ConfigError(f"{f}: cannot read tensor {key} ({e})") from None

    def __iter__(self):
        return iter(self._where)

    def __len__(self) -> int:
        return len(self._where)

    def shape(self, key: str) -> tuple[int, ...]:
        from safetensors import SafetensorError, safe_open
        f = self._where[key]
        try:
            with safe_open(str(f), framework="pt") as h:
                return tuple(h.get_slice(key).get_shape())
        except (OSError, SafetensorError, ValueError) as e:
            raise ConfigError(f"{f}: cannot read tensor {key} ({e})") from None


class _Shapes(Mapping):
    """name -> an object with ``.shape`` (for `check_weights` on lazy weights)."""

    def __init__(self, w: LazyWeights):
        self.w = w

    def __getitem__(self, key):
        return SimpleNamespace(shape=self.w.shape(key))

    def __iter__(self):
        return iter(self.w)

    def __len__(self):
        return len(self.w)


def _safetensors_keys(path: Path) -> list[str]:
    from safetensors import SafetensorError, safe_open
    try:
        with safe_open(str(path), framework="pt") as h:
            return list(h.keys())
    except (OSError, SafetensorError, ValueError) as e:
        raise ConfigError(f"{path}: cannot read safetensors ({e})") from None


def load_model(path: str | Path, *, lazy: bool = False) -> Checkpoint:
    """Load and validate a local HF LLaMA directory (config.json + *.safetensors).  With
    ``lazy`` the weights are a `LazyWeights` mapping (read tensor by tensor when used,
    for real checkpoints whose float copy need not sit in memory)."""
    path = Path(path)
    if not path.is_dir():
        raise ConfigError(f"model directory {path} not found")
    arch = LlamaArch.from_hf_config(_read_json(path / "config.json"), str(path / "config.json"))
    files = sorted(path.glob("*.safetensors"))
    if not files:
        raise ConfigError(f"{path}: no *.safetensors weights (only safetensors is supported)")
    if lazy:
        return Checkpoint(arch, _lazy_weights(path, arch, files))
    weights: dict[str, torch.Tensor] = {}
    for f in files:
        for k, v in _load_safetensors(f).items():
            if k in weights:
                raise ConfigError(f"{f}: tensor {k} appears in two shards")
            weights[k] = v.to(torch.float32)
    if arch.tie_word_embeddings and "lm_head.weight" in weights:
        lm, emb = weights.pop("lm_head.weight"), weights.get("model.embed_tokens.weight")
        if emb is not None and (lm.shape != emb.shape or not torch.equal(lm, emb)):
            raise ConfigError(f"{path}: tie_word_embeddings is true but lm_head.weight differs "
                              f"from model.embed_tokens.weight (untie it in config.json, or "
                              f"drop lm_head.weight)")
    check_weights(arch.expected_shapes(), weights, str(path), ignore=("rotary_emb.inv_freq",))
    weights = {k: v for k, v in weights.items() if "rotary_emb.inv_freq" not in k}
    return Checkpoint(arch, weights)


def _lazy_weights(path: Path, arch: LlamaArch, files: Sequence[Path]) -> LazyWeights:
    """`load_model`'s checks on a `LazyWeights` (shapes from the headers; a tied
    ``lm_head.weight`` is read once, to compare it with the embedding)."""
    where: dict[str, Path] = {}
    for f in files:
        for k in _safetensors_keys(f):
            if k in where:
                raise ConfigError(f"{f}: tensor {k} appears in two shards")
            where[k] = f
    skip = {k for k in where if "rotary_emb.inv_freq" in k}
    w = LazyWeights(where)
    if arch.tie_word_embeddings and "lm_head.weight" in where:
        skip.add("lm_head.weight")
        emb = "model.embed_tokens.weight"
        if emb in where:
            lm, e = w["lm_head.weight"], w[emb]
            if lm.shape != e.shape or not torch.equal(lm, e):
                raise ConfigError(f"{path}: tie_word_embeddings is true but lm_head.weight "
                                  f"differs from model.embed_tokens.weight (untie it in "
                                  f"config.json, or drop lm_head.weight)")
            del lm, e
    w = LazyWeights(where, skip)
    check_weights(arch.expected_shapes(), _Shapes(w), str(path))
    return w


def save_model(path: str | Path, arch: LlamaArch, weights: Mapping[str, torch.Tensor]) -> None:
    """Write config.json + model.safetensors (float32)."""
    from safetensors.torch import save_file
    check_weights(arch.expected_shapes(), weights, "save_model")
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    (path / "config.json").write_text(json.dumps(arch.to_hf_config(), indent=2))
    save_file({k: v.to(torch.float32).contiguous() for k, v in weights.items()},
              str(path / "model.safetensors"), metadata={"format": "pt"})


# -- LoRA adapters ---------------------------------------------------------------------------


def _norm_targets(targets: Iterable[str] | str, source: str) -> tuple[str, ...]:
    if isinstance(targets, str):
        if targets == "all-linear":
            return tuple(TARGETS)
        raise ConfigError(f"{source}: target_modules {targets!r} unsupported (give a list of "
                          f"module names, or 'all-linear')")
    out = []
    for t in targets:
        short = _MODULE_TO_SHORT.get(t, t if t in TARGETS else None)
        if short is None:
            raise ConfigError(f"{source}: LoRA target {t!r} unknown; allowed: "
                              f"{sorted(_MODULE_TO_SHORT)} or {sorted(TARGETS)}")
        if short not in out:
            out.append(short)
    if not out:
        raise ConfigError(f"{source}: no LoRA target modules")
    return tuple(t for t in TARGETS if t in out)


@attrs.frozen
class LoraSpec:
    """LoRA hyper-parameters.  ``targets`` are short names (q, k, v, o, gate, up, down)."""

    r: int = 4
    alpha: float = 8.0
    targets: tuple[str, ...] = ("q", "v")
    dropout: float = 0.0
    use_rslora: bool = False

    def __attrs_post_init__(self):
        if not isinstance(self.r, int) or self.r <= 0:
            raise ConfigError(f"LoRA rank r must be a positive integer, got {self.r!r}")
        if self.dropout != 0:
            raise ConfigError(
                f"LoRA dropout {self.dropout} > 0 is not supported: the dropout mask would be "
                f"chosen by the prover at random, and a random mask the prover chooses is not a "
                f"proof; set lora_dropout to 0")
        _norm_targets(self.targets, "LoRA config")

    @property
    def scaling(self) -> float:
        """α/√r with rsLoRA, else α/r (peft's ``scaling``)."""
        return self.alpha / (math.sqrt(self.r) if self.use_rslora else self.r)

    @classmethod
    def from_peft_config(cls, d: Mapping[str, Any], source: str = "adapter_config.json"
                         ) -> LoraSpec:
        if d.get("peft_type", "LORA") != "LORA":
            raise ConfigError(f"{source}: peft_type {d.get('peft_type')!r} unsupported "
                              f"(only LORA)")
        unsupported = {
            "use_dora": False, "fan_in_fan_out": False, "lora_bias": False,
            "bias": "none", "modules_to_save": None, "layers_to_transform": None,
            "layer_replication": None, "rank_pattern": {}, "alpha_pattern": {},
            "trainable_token_indices": None, "target_parameters": None,
        }
        for k, ok in unsupported.items():
            v = d.get(k)
            if v is not None and v != ok and not (ok in (None, {}) and v in ({}, [])):
                raise ConfigError(f"{source}: {k}={v!r} is unsupported (expected {ok!r})")
        if "r" not in d or "target_modules" not in d:
            raise ConfigError(f"{source}: needs keys 'r' and 'target_modules'")
        return cls(
            r=int(d["r"]),
            alpha=float(d.get("lora_alpha", 8)),
            targets=_norm_targets(d["target_modules"], source),
            dropout=float(d.get("lora_dropout", 0.0) or 0.0),
            use_rslora=bool(d.get("use_rslora", False)),
        )

    def to_peft_config(self, base_model_name_or_path: str | None = None) -> dict[str, Any]:
        """adapter_config.json for peft (≥ 0.10)."""
        alpha = int(self.alpha) if float(self.alpha).is_integer() else self.alpha
        return {
            "peft_type": "LORA", "task_type": "CAUSAL_LM", "r": self.r, "lora_alpha": alpha,
            "lora_dropout": 0.0, "use_rslora": self.use_rslora, "bias": "none",
            "target_modules": [TARGETS[t].split(".")[-1] for t in self.targets],
            "fan_in_fan_out": False, "use_dora": False, "init_lora_weights": True,
            "inference_mode": True, "modules_to_save": None,
            "base_model_name_or_path": base_model_name_or_path,
        }


@attrs.define
class LoraPair:
    """One adapted projection: A (r, in_features), B (out_features, r) — peft's layout."""

    A: torch.Tensor
    B: torch.Tensor


@attrs.define
class Adapter:
    """A validated LoRA adapter: its spec and a `LoraPair` per (layer, short target)."""

    spec: LoraSpec
    pairs: dict[tuple[int, str], LoraPair]

    def peft_state_dict(self) -> dict[str, torch.Tensor]:
        """Tensors under the names peft saves them with."""
        out = {}
        for (layer, t), p in sorted(self.pairs.items()):
            stem = f"{PEFT_PREFIX}{layer}.{TARGETS[t]}"
            out[f"{stem}.lora_A.weight"] = p.A
            out[f"{stem}.lora_B.weight"] = p.B
        return out

    def flat(self) -> dict[str, torch.Tensor]:
        """Same tensors, as a dict (for comparisons and statements)."""
        return self.peft_state_dict()

    def save(self, path: str | Path, base_model_name_or_path: str | None = None) -> None:
        """Write it in peft's format (`save_adapter`); what the kernel's
        ``--adapter-out`` calls, so the kernel need not import this module."""
        save_adapter(path, self, base_model_name_or_path)

    def check(self, arch: LlamaArch, source: str = "adapter") -> None:
        """Shapes against a model: one pair per layer and target, A (r, in), B (out, r)."""
        want = {(i, t) for i in range(arch.num_layers) for t in self.spec.targets}
        have = set(self.pairs)
        if have != want:
            bad = sorted(have ^ want)[0]
            raise ConfigError(f"{source}: adapter layer/target {bad} "
                              f"{'missing' if bad in want else 'not in the model'}")
        for (i, t), p in self.pairs.items():
            out_f, in_f = arch.linear_shape(t)
            stem = f"{PEFT_PREFIX}{i}.{TARGETS[t]}"
            if tuple(p.A.shape) != (self.spec.r, in_f):
                raise ConfigError(f"{source}: tensor {stem}.lora_A.weight has shape "
                                  f"{tuple(p.A.shape)}, the model implies {(self.spec.r, in_f)}")
            if tuple(p.B.shape) != (out_f, self.spec.r):
                raise ConfigError(f"{source}: tensor {stem}.lora_B.weight has shape "
                                  f"{tuple(p.B.shape)}, the model implies {(out_f, self.spec.r)}")


def adapter_from_state_dict(spec: LoraSpec, sd: Mapping[str, torch.Tensor],
                            source: str = "adapter") -> Adapter:
    """Parse peft tensor names (with or without the ``.default`` adapter name)."""
    pairs: dict[tuple[int, str], dict[str, torch.Tensor]] = {}
    for name, v in sd.items():
        key = name.replace(".default.weight", ".weight")
        if not key.startswith(PEFT_PREFIX):
            raise ConfigError(f"{source}: unexpected tensor {name}")
        rest = key[len(PEFT_PREFIX):].split(".")
        # {layer}.{self_attn|mlp}.{module}.lora_{A|B}.weight
        if len(rest) != 5 or rest[4] != "weight" or rest[3] not in ("lora_A", "lora_B") \
                or rest[2] not in _MODULE_TO_SHORT or not rest[0].isdigit():
            raise ConfigError(f"{source}: unexpected tensor {name}")
        short = _MODULE_TO_SHORT[rest[2]]
        if f"{rest[1]}.{rest[2]}" != TARGETS[short]:
            raise ConfigError(f"{source}: unexpected tensor {name}")
        if short not in spec.targets:
            raise ConfigError(f"{source}: tensor {name} is for target {short!r}, not in "
                              f"target_modules {list(spec.targets)}")
        pairs.setdefault((int(rest[0]), short), {})[rest[3][-1]] = v.to(torch.float32)
    out = {}
    for k, d in pairs.items():
        if set(d) != {"A", "B"}:
            raise ConfigError(f"{source}: layer {k[0]} target {k[1]} lacks lora_"
                              f"{'B' if 'A' in d else 'A'}")
        out[k] = LoraPair(d["A"], d["B"])
    return Adapter(spec, out)


def load_adapter(path: str | Path, arch: LlamaArch | None = None) -> Adapter:
    """Load and validate a peft adapter directory (against ``arch`` when given)."""
    path = Path(path)
    if not path.is_dir():
        raise ConfigError(f"adapter directory {path} not found")
    cfg = path / "adapter_config.json"
    spec = LoraSpec.from_peft_config(_read_json(cfg), str(cfg))
    st = path / "adapter_model.safetensors"
    if not st.is_file():
        raise ConfigError(f"{st}: file not found (only safetensors adapters are supported)")
    adapter = adapter_from_state_dict(spec, _load_safetensors(st), str(st))
    if arch is not None:
        adapter.check(arch, str(path))
    return adapter


def save_adapter(path: str | Path, adapter: Adapter,
                 base_model_name_or_path: str | None = None) -> None:
    """Write adapter_config.json + adapter_model.safetensors in peft's own format.

    ``base_model_name_or_path`` (a hub id or a model directory) is what
    ``peft.AutoPeftModelForCausalLM.from_pretrained(path)`` loads the base model from.
    Every tensor must be finite; an error names it the peft way."""
    from safetensors.torch import save_file
    path = Path(path)
    tensors = {}
    for k, v in adapter.peft_state_dict().items():
        v = v.to(torch.float32).contiguous()
        if not bool(torch.isfinite(v).all()):
            raise ConfigError(f"adapter: tensor {k} has non-finite values")
        tensors[k] = v
    path.mkdir(parents=True, exist_ok=True)
    (path / "adapter_config.json").write_text(
        json.dumps(adapter.spec.to_peft_config(base_model_name_or_path), indent=2))
    save_file(tensors, str(path / "adapter_model.safetensors"), metadata={"format": "pt"})
