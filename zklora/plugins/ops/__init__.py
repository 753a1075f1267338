"""zkLoRA plugins.ops."""
