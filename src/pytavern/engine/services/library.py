"""Personas, lorebooks, presets and the user's generation preferences."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pytavern.engine import transfer
from pytavern.engine.preferences import GenerationPreferences, load_preferences, save_preferences
from pytavern.engine.sampler_defaults import sampling_from_preset
from pytavern.engine.services._base import Service
from pytavern.engine.services.characters import check_image
from pytavern.errors import ForbiddenError, FormatError, NotFoundError
from pytavern.formats.presets import PresetKind, bundled_names, load_bundled
from pytavern.store import LorebookRecord, PersonaRecord, PresetRecord

BUNDLED_KINDS: tuple[PresetKind, ...] = ("instruct", "context", "sysprompt")
"""The kinds of preset pytavern ships templates of (``pytavern/data/<kind>/``)."""


def persona_public(record: PersonaRecord) -> dict[str, Any]:
    """A persona as the API shows it."""
    return {
        "id": record.id,
        "name": record.name,
        "description": record.description,
        "position": record.position,
        "depth": record.depth,
        "role": record.role,
        "lorebook": record.lorebook,
        "has_avatar": record.has_avatar,
        "is_default": record.is_default,
    }


def entry_count(data: dict[str, Any]) -> int:
    """How many entries a World Info dictionary holds."""
    entries = data.get("entries")
    return len(entries) if isinstance(entries, dict | list) else 0


class PersonaService(Service):
    """Who the user plays as."""

    def all(self) -> list[PersonaRecord]:
        """Every persona."""
        return self._engine.store.list_personas()

    def get(self, persona_id: int) -> PersonaRecord:
        """One persona."""
        return self._engine.store.get_persona(persona_id)

    def save(self, persona_id: int | None = None, **fields: Any) -> PersonaRecord:
        """Create a persona (``persona_id`` None) or change the fields given of one."""
        if "avatar" in fields and fields["avatar"] is not None:
            fields["avatar"] = check_image(fields["avatar"])
        if persona_id is None:
            return self._engine.store.save_persona(**fields)
        return self._engine.store.save_persona(persona_id, **fields)

    def delete(self, persona_id: int) -> None:
        """Delete a persona."""
        self._engine.store.delete_persona(persona_id)

    def set_default(self, persona_id: int) -> PersonaRecord:
        """Make a persona the default."""
        return self._engine.store.set_default_persona(persona_id)

    def avatar(self, persona_id: int) -> bytes:
        """The persona's avatar image (``NotFoundError`` when it has none)."""
        avatar = self._engine.store.persona_avatar(persona_id)
        if avatar is None:
            raise NotFoundError(f"persona {persona_id} has no avatar")
        return avatar


class LorebookService(Service):
    """World Info books, and which are active in every chat."""

    def all(self) -> list[LorebookRecord]:
        """Every lorebook."""
        return self._engine.store.list_lorebooks()

    def get(self, name: str) -> LorebookRecord:
        """One lorebook."""
        return self._engine.store.get_lorebook(name)

    def save(self, name: str, data: dict[str, Any]) -> LorebookRecord:
        """Create or replace a lorebook (World Info JSON: ``{"entries": {...}}``)."""
        if not isinstance(data.get("entries", {}), dict | list):
            raise FormatError("a lorebook's 'entries' must be an object or a list")
        return self._engine.store.save_lorebook(name, data)

    def delete(self, name: str) -> None:
        """Delete a lorebook."""
        self._engine.store.delete_lorebook(name)

    def import_bytes(self, data: bytes, filename: str, name: str | None = None) -> LorebookRecord:
        """Store a World Info file (named after the file unless ``name`` is given)."""
        return transfer.import_lorebook(self._engine.store, data, filename, name)

    def export(self, name: str) -> bytes:
        """A lorebook as SillyTavern World Info JSON."""
        return transfer.export_lorebook(self._engine.store, name)

    def active(self) -> list[str]:
        """The lorebooks in play for every chat (the preferences' ``world_info``)."""
        return load_preferences(self._engine.store).world_info

    def set_active(self, name: str, active: bool) -> None:
        """Make a lorebook active in every chat, or not."""
        self.get(name)
        names = [n for n in self.active() if n != name]
        save_preferences(self._engine.store, {"world_info": [*names, name] if active else names})

    def public(self, record: LorebookRecord, *, full: bool) -> dict[str, Any]:
        """A lorebook as the API shows it (its entries only when ``full``)."""
        base = {
            "name": record.name,
            "entries": entry_count(record.data),
            "active": record.name in self.active(),
            "updated_at": record.updated_at.isoformat(),
        }
        return base | {"data": record.data} if full else base


@dataclass(frozen=True, slots=True)
class PresetView:
    """A preset: stored by the user, or a template bundled with pytavern (read-only)."""

    kind: str
    name: str
    data: dict[str, Any]
    bundled: bool = False
    shadows_bundled: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of a preset."""
        return {
            "kind": self.kind,
            "name": self.name,
            "data": self.data,
            "bundled": self.bundled,
            "read_only": self.bundled,
            "shadows_bundled": self.shadows_bundled,
        }


def _bundled_kind(kind: str) -> PresetKind | None:
    return next((k for k in BUNDLED_KINDS if k == kind), None)


def is_bundled(kind: str, name: str) -> bool:
    """Whether pytavern ships a template of this kind and name."""
    bundled = _bundled_kind(kind)
    return bundled is not None and name in bundled_names(bundled)


def _bundled_view(kind: PresetKind, name: str) -> PresetView:
    return PresetView(kind, name, load_bundled(kind, name).to_dict(), bundled=True)


def _stored_view(record: PresetRecord) -> PresetView:
    shadows = is_bundled(record.kind, record.name)
    return PresetView(record.kind, record.name, record.data, shadows_bundled=shadows)


class PresetService(Service):
    """Instruct, context, system-prompt and sampler presets."""

    def all(self, kind: str | None = None) -> list[PresetView]:
        """The stored presets first, then the bundled templates they do not shadow."""
        stored = self._engine.store.list_presets(kind)
        taken = {(p.kind, p.name) for p in stored}
        kinds = BUNDLED_KINDS if kind is None else [k for k in BUNDLED_KINDS if k == kind]
        bundled = [
            _bundled_view(k, name)
            for k in kinds
            for name in bundled_names(k)
            if (k, name) not in taken
        ]
        return [_stored_view(p) for p in stored] + bundled

    def get(self, kind: str, name: str) -> PresetView:
        """The stored preset of that name, else the bundled template of that name."""
        record = self._engine.store.get_preset(kind, name)
        if record is not None:
            return _stored_view(record)
        bundled = _bundled_kind(kind)
        if bundled is not None and name in bundled_names(bundled):
            return _bundled_view(bundled, name)
        raise NotFoundError(f"no {kind} preset named {name!r}")

    def save(self, kind: str, name: str, data: dict[str, Any]) -> PresetView:
        """Create or replace a stored preset (one named like a bundled template shadows it)."""
        return _stored_view(self._engine.store.save_preset(kind, name, data))

    def delete(self, kind: str, name: str) -> None:
        """Delete a stored preset; bundled templates are read-only (``ForbiddenError``)."""
        if self._engine.store.get_preset(kind, name) is None and is_bundled(kind, name):
            raise ForbiddenError(
                f"the {kind} template {name!r} is bundled with pytavern and cannot be deleted",
                hint="Save a preset of the same name to use in its place",
            )
        self._engine.store.delete_preset(kind, name)


class PreferenceService(Service):
    """The user's generation preferences (samplers, context, templates, author's note)."""

    def get(self) -> GenerationPreferences:
        """The current preferences."""
        return load_preferences(self._engine.store)

    def change(self, changes: dict[str, Any]) -> GenerationPreferences:
        """Change some preferences; nested objects merge, ``None`` resets a field."""
        return save_preferences(self._engine.store, changes)

    def load_sampler_preset(self, name: str) -> GenerationPreferences:
        """Put a stored sampler preset (a SillyTavern textgen, kobold or openai preset
        file) in place of the samplers, as choosing a preset in SillyTavern does; the reply
        length stays unless the preset sets one."""
        record = self._engine.store.get_preset("sampler", name)
        if record is None:
            raise NotFoundError(
                f"no sampler preset named {name!r}",
                hint="Import SillyTavern's preset file first (Prompt tab, or PUT /api/presets)",
            )
        sampling = sampling_from_preset(record.data, name)
        current = load_preferences(self._engine.store).sampling
        if sampling.max_tokens is None:
            sampling = sampling.model_copy(update={"max_tokens": current.max_tokens})
        changes = {"sampling": sampling.model_dump(), "sampler_preset": name}
        return save_preferences(self._engine.store, changes)
