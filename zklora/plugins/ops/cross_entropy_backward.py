"""Placeholder: backward op (helper-11)."""
