"""Data shipped with pytavern: the default character and bundled SillyTavern templates."""
