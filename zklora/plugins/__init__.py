"""zkLoRA plugins."""
