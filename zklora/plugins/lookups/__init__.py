"""zkLoRA plugins.lookups."""
