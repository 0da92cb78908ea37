"""Pure prompt building: macros, instruct formatting, World Info, token budgets, assembly.

Entry points:

- :func:`pytavern.prompt.assemble.assemble` ``(PromptInput) -> BuiltPrompt`` and
  :func:`pytavern.prompt.assemble.clean_reply` for the generated text.
- :func:`pytavern.prompt.worldinfo.check_world_info` for lore alone.
- :func:`pytavern.prompt.macros.evaluate` with a :class:`~pytavern.prompt.macros.MacroContext`.
- Tokenizers in :mod:`pytavern.prompt.tokens`.

Nothing here does I/O; the engine loads cards, chats and lorebooks and passes them in.
"""
