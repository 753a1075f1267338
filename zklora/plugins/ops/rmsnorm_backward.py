"""Placeholder: backward op (helper-10)."""
