"""Placeholder: the llama model plugin (helper-8)."""
