"""zkLoRA plugins.fields."""
