"""Story strings: rendered with Handlebars semantics by ``pytavern.prompt.handlebars``.

Kept as the name the prompt builders import; see that module for what is supported.
"""

from __future__ import annotations

from pytavern.prompt.handlebars import render

__all__ = ["render"]
