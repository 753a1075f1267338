"""Placeholder: optimiser ops (helper-9)."""
