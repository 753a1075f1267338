"""zkLoRA: zero-knowledge proofs of LoRA fine-tuning for LLaMA-family models."""

__version__ = "0.1.0"
