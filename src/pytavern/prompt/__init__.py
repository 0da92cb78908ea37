"""Pure prompt building: cards, chat history, lorebooks and presets in, a prompt out."""
