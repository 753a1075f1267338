"""zkLoRA zkcore."""
