"""Helpers shared by the rules: rule construction, settings, type tokens, document parsing."""
