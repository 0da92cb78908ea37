"""Connection profiles: save, list, remove, and choose one for a chat (see
``pytavern.engine.profiles``)."""

from __future__ import annotations

from typing import Any

from pytavern.engine.profiles import (
    CHAT_KEY,
    ConnectionProfile,
    check_profile,
    load_profiles,
    save_profiles,
)
from pytavern.engine.services._base import Service
from pytavern.errors import ConfigError, NotFoundError

__all__ = ["ConnectionProfile", "ProfileService"]


class ProfileService(Service):
    """Named sets of connection, model and presets, switchable per chat."""

    def all(self) -> list[ConnectionProfile]:
        """Every profile, by name."""
        return [p for _n, p in sorted(load_profiles(self._engine.store).items())]

    def get(self, name: str) -> ConnectionProfile:
        """One profile (``NotFoundError`` when there is none of that name)."""
        found = load_profiles(self._engine.store).get(name)
        if found is None:
            raise NotFoundError(
                f"no connection profile named {name!r}",
                hint="See `pytavern profiles list`, or add one with `pytavern profiles add`",
            )
        return found

    def save(self, values: dict[str, Any]) -> ConnectionProfile:
        """Save a profile (replacing the one of that name); its connection and presets
        must exist."""
        try:
            profile = ConnectionProfile.model_validate(values)
        except ValueError as exc:
            raise ConfigError(
                f"the profile is not valid: {exc}",
                hint="Give a name and a connection; model and presets are optional",
            ) from None
        store = self._engine.store
        check_profile(store, profile)
        profiles = load_profiles(store)
        profiles[profile.name] = profile
        save_profiles(store, profiles)
        return profile

    def remove(self, name: str) -> None:
        """Delete a profile (chats that chose it go back to the defaults)."""
        profiles = load_profiles(self._engine.store)
        self.get(name)
        del profiles[name]
        save_profiles(self._engine.store, profiles)

    def use(self, chat_id: int, name: str | None) -> str | None:
        """Make ``chat_id`` use profile ``name`` from its next turn (``None``: none)."""
        store = self._engine.store
        store.get_chat(chat_id)
        if name is not None:
            self.get(name)
        store.merge_chat_metadata(chat_id, {CHAT_KEY: name})
        return name

    def of_chat(self, chat_id: int) -> str | None:
        """The profile ``chat_id`` uses, if any."""
        chosen = self._engine.store.get_chat(chat_id).metadata.get(CHAT_KEY)
        return chosen if isinstance(chosen, str) and chosen else None
