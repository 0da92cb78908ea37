"""SillyTavern-compatible file formats: cards, chats, lorebooks, presets (pure, no I/O)."""
