"""zkLoRA zkcore.testing."""
