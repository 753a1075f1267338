"""Placeholder: the llama-train model plugin (helper-12)."""
