"""zkLoRA plugins.models."""
