"""zkLoRA plugins.commitments."""
