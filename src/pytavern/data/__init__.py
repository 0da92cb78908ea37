"""Bundled SillyTavern-compatible templates (instruct, context, sysprompt JSON)."""
