"""Regex scripts: import, list, export, edit, allow a character's, and try one on a text."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

from pytavern.engine import regex_scripts as kept
from pytavern.engine.services._base import Service
from pytavern.errors import NotFoundError
from pytavern.formats.cards import card_from_dict
from pytavern.formats.regex import (
    RegexScript,
    read_scripts,
    script_from_dict,
    scripts_from_value,
    write_scripts,
)
from pytavern.prompt.macros import MacroContext
from pytavern.prompt.regex import compile_js_regex, find_pattern, run_script
from pytavern.store import MessageRecord

Scope = Literal["global", "character", "preset"]


@dataclass(frozen=True, slots=True)
class ScopedScript:
    """A script and where it is kept (``owner``: the character id or preset name)."""

    scope: Scope
    script: RegexScript
    owner: int | str | None = None
    allowed: bool = True

    def to_dict(self) -> dict[str, Any]:
        """The script as SillyTavern JSON plus where it is kept."""
        return self.script.to_dict() | {
            "scope": self.scope,
            "owner": self.owner,
            "allowed": self.allowed,
        }


class RegexService(Service):
    """Everything about regex scripts (SillyTavern's Regex extension)."""

    def settings(self) -> kept.RegexSettings:
        """The stored setting: global scripts, allowed characters, active preset."""
        return kept.load_settings(self._engine.store)

    def all(self, character_id: int | None = None) -> list[ScopedScript]:
        """Global scripts, then a character's own (when given), then the active preset's."""
        settings = self.settings()
        found = [ScopedScript("global", s) for s in scripts_from_value(settings.scripts)]
        if character_id is not None:
            card = self._engine.store.get_character(character_id).card
            allowed = character_id in settings.allowed_characters
            found += [
                ScopedScript("character", s, character_id, allowed)
                for s in scripts_from_value(kept.card_scripts(card))
            ]
        preset = kept.preset_scripts(self._engine.store, settings.preset)
        found += [ScopedScript("preset", s, settings.preset) for s in scripts_from_value(preset)]
        return found

    def import_bytes(
        self, data: bytes, *, character_id: int | None = None, preset: str | None = None
    ) -> list[RegexScript]:
        """Add the scripts of a SillyTavern regex file: global, to a character (which is
        then allowed to run them) or to a stored sampler preset (which becomes active)."""
        scripts = read_scripts(data)
        raw = [script.to_dict() for script in scripts]
        if character_id is not None:
            self._set_card_scripts(character_id, self._card_raw(character_id) + raw)
            self.allow_character(character_id, True)
        elif preset is not None:
            self._set_preset_scripts(preset, kept.preset_scripts(self._engine.store, preset) + raw)
        else:
            settings = self.settings()
            settings.scripts = [s for s in settings.scripts if s.get("id") not in _ids(raw)] + raw
            kept.save_settings(self._engine.store, settings)
        return scripts

    def export(self, character_id: int | None = None, preset: str | None = None) -> bytes:
        """Scripts of one scope as a SillyTavern file (one object for one script)."""
        if character_id is not None:
            raw = self._card_raw(character_id)
        elif preset is not None:
            raw = kept.preset_scripts(self._engine.store, preset)
        else:
            raw = self.settings().scripts
        if not raw:
            raise NotFoundError("there are no regex scripts to export in that scope")
        return write_scripts(scripts_from_value(raw))

    def replace_global(self, scripts: list[dict[str, Any]]) -> list[RegexScript]:
        """Replace the global scripts (validated; order is the order they run in)."""
        parsed = [script_from_dict(item) for item in scripts]
        settings = self.settings()
        settings.scripts = [script.to_dict() for script in parsed]
        kept.save_settings(self._engine.store, settings)
        return parsed

    def replace_character(self, character_id: int, scripts: list[dict[str, Any]]) -> None:
        """Replace a character's own scripts (kept in its card)."""
        parsed = [script_from_dict(item).to_dict() for item in scripts]
        self._set_card_scripts(character_id, parsed)

    def delete(self, script_id: str) -> None:
        """Delete a global script by id."""
        settings = self.settings()
        left = [s for s in settings.scripts if s.get("id") != script_id]
        if len(left) == len(settings.scripts):
            raise NotFoundError(f"no global regex script has id {script_id!r}")
        settings.scripts = left
        kept.save_settings(self._engine.store, settings)

    def allow_character(self, character_id: int, allowed: bool) -> None:
        """Let a character's own scripts run, or stop them."""
        self._engine.store.get_character(character_id)
        settings = self.settings()
        ids = [i for i in settings.allowed_characters if i != character_id]
        settings.allowed_characters = [*ids, character_id] if allowed else ids
        kept.save_settings(self._engine.store, settings)

    def use_preset(self, name: str | None) -> None:
        """Make a stored sampler preset's scripts the active preset scripts (None: none)."""
        if name is not None and self._engine.store.get_preset(kept.PRESET_KIND, name) is None:
            raise NotFoundError(
                f"no sampler preset called {name!r}",
                hint="Save the preset first (presets of kind 'sampler')",
            )
        settings = self.settings()
        settings.preset = name
        kept.save_settings(self._engine.store, settings)

    def test(
        self, script: dict[str, Any], text: str, *, user: str = "User", char: str = ""
    ) -> dict[str, Any]:
        """Run one script on ``text`` (the editor's live test box), whatever its flags."""
        parsed = script_from_dict(script)
        ctx = MacroContext(user=user, char=char)
        pattern = find_pattern(parsed, ctx)
        valid = compile_js_regex(pattern) is not None
        enabled = dataclasses.replace(parsed, disabled=False)
        return {"output": run_script(enabled, text, ctx), "pattern": pattern, "valid": valid}

    def display(self, chat_id: int, messages: list[MessageRecord], newer: int = 0) -> list[str]:
        """What the UI shows of ``messages`` (display-only scripts applied)."""
        scripts = kept.chat_script_set(self._engine.store, chat_id)
        return kept.display_texts(scripts, messages, newer)

    def _card_raw(self, character_id: int) -> list[dict[str, Any]]:
        return kept.card_scripts(self._engine.store.get_character(character_id).card)

    def _set_card_scripts(self, character_id: int, raw: list[dict[str, Any]]) -> None:
        record = self._engine.store.get_character(character_id)
        card = dict(record.card)
        target = card.get("data") if isinstance(card.get("data"), dict) else card
        assert isinstance(target, dict)
        extensions = target.get("extensions")
        target["extensions"] = (dict(extensions) if isinstance(extensions, dict) else {}) | {
            kept.CARD_KEY: raw
        }
        card_from_dict(card)  # still a card
        self._engine.store.update_character(character_id, card)

    def _set_preset_scripts(self, name: str, raw: list[dict[str, Any]]) -> None:
        record = self._engine.store.get_preset(kept.PRESET_KIND, name)
        if record is None:
            raise NotFoundError(
                f"no sampler preset called {name!r}",
                hint="Save the preset first (presets of kind 'sampler')",
            )
        extensions = record.data.get("extensions")
        data = record.data | {
            "extensions": (dict(extensions) if isinstance(extensions, dict) else {})
            | {kept.CARD_KEY: raw}
        }
        self._engine.store.save_preset(kept.PRESET_KIND, name, data)
        self.use_preset(name)


def _ids(raw: list[dict[str, Any]]) -> set[Any]:
    return {item.get("id") for item in raw}
