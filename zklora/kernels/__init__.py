"""zkLoRA kernels."""
