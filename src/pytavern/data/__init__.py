"""Data files shipped with pytavern (default character, templates)."""
