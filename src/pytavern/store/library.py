"""Stored personas, lorebooks, presets and user settings."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

from pytavern.errors import ConfigError, NotFoundError
from pytavern.store._base import dumps, loads
from pytavern.store.avatars import avatar_image, replace_avatar
from pytavern.store.queries import PERSONA_COLUMNS, QueriesMixin, persona_record
from pytavern.store.records import LorebookRecord, PersonaRecord, PresetRecord
from pytavern.store.schema import (
    LorebookRow,
    PersonaAvatarRow,
    PersonaRow,
    PresetRow,
    SettingRow,
    utcnow,
)

PRESET_KINDS = frozenset({"instruct", "context", "sysprompt", "sampler"})
PERSONA_FIELDS = frozenset({"name", "description", "position", "depth", "role", "lorebook"})


def _lorebook(row: LorebookRow) -> LorebookRecord:
    return LorebookRecord(id=row.id, name=row.name, data=loads(row.data), updated_at=row.updated_at)


def _preset(row: PresetRow) -> PresetRecord:
    return PresetRecord(id=row.id, kind=row.kind, name=row.name, data=loads(row.data))


class LibraryMixin(QueriesMixin):
    """Personas, lorebooks, presets and settings."""

    def save_persona(
        self, persona_id: int | None = None, *, avatar: bytes | None = None, **fields: Any
    ) -> PersonaRecord:
        """Create a persona, or change the fields given of persona ``persona_id``."""
        unknown = set(fields) - PERSONA_FIELDS
        if unknown:
            raise ConfigError(f"unknown persona fields: {', '.join(sorted(unknown))}")
        with self.transaction() as session:
            if persona_id is None:
                row = PersonaRow(
                    owner_id=self.owner_id,
                    name="User",
                    description="",
                    position=0,
                    depth=2,
                    role=0,
                    is_default=False,
                )
                session.add(row)
            else:
                row = self._persona_row(session, persona_id)
            for key, value in fields.items():
                setattr(row, key, value)
            session.flush()
            if avatar is not None:
                replace_avatar(session, PersonaAvatarRow.persona_id, row.id, avatar)
            saved = row.id
        return self.get_persona(saved)

    def list_personas(self) -> list[PersonaRecord]:
        """Every persona, by name."""
        query = (
            select(*PERSONA_COLUMNS)
            .where(PersonaRow.owner_id == self.owner_id)
            .order_by(PersonaRow.name)
        )
        with self.transaction() as session:
            return [persona_record(row) for row in session.execute(query)]

    def get_persona(self, persona_id: int) -> PersonaRecord:
        """The persona with this id."""
        with self.queries() as queries:
            record = queries.persona(persona_id)
        if record is None:
            raise NotFoundError(f"no persona with id {persona_id}")
        return record

    def persona_avatar(self, persona_id: int) -> bytes | None:
        """The persona's avatar image, if any."""
        with self.transaction() as session:
            self._persona_row(session, persona_id)  # this owner's, or NotFoundError
            return avatar_image(session, PersonaAvatarRow.persona_id, persona_id)

    def default_persona(self) -> PersonaRecord | None:
        """The default persona, if one is chosen."""
        with self.queries() as queries:
            return queries.default_persona()

    def set_default_persona(self, persona_id: int) -> PersonaRecord:
        """Make a persona the default."""
        with self.transaction() as session:
            row = self._persona_row(session, persona_id)
            session.execute(
                update(PersonaRow)
                .where(PersonaRow.owner_id == self.owner_id)
                .values(is_default=False)
            )
            row.is_default = True
        return self.get_persona(persona_id)

    def delete_persona(self, persona_id: int) -> None:
        """Delete a persona."""
        with self.transaction() as session:
            session.delete(self._persona_row(session, persona_id))

    def save_lorebook(self, name: str, data: dict[str, Any]) -> LorebookRecord:
        """Create or replace the lorebook ``name``."""
        with self.transaction() as session:
            row = session.scalar(self._lorebook_query(name))
            if row is None:
                row = LorebookRow(owner_id=self.owner_id, name=name, created_at=utcnow())
                session.add(row)
            row.data, row.updated_at = dumps(data), utcnow()
            session.flush()
            return _lorebook(row)

    def list_lorebooks(self) -> list[LorebookRecord]:
        """Every lorebook, by name."""
        with self.transaction() as session:
            rows = session.scalars(
                select(LorebookRow)
                .where(LorebookRow.owner_id == self.owner_id)
                .order_by(LorebookRow.name)
            )
            return [_lorebook(r) for r in rows]

    def get_lorebook(self, name: str) -> LorebookRecord:
        """The lorebook called ``name``."""
        with self.transaction() as session:
            row = session.scalar(self._lorebook_query(name))
            if row is None:
                raise NotFoundError(
                    f"no lorebook named {name!r}", hint="List them with `pytavern lorebooks list`"
                )
            return _lorebook(row)

    def delete_lorebook(self, name: str) -> None:
        """Delete the lorebook called ``name``."""
        record = self.get_lorebook(name)
        with self.transaction() as session:
            session.delete(self.owned(session, LorebookRow, record.id))

    def save_preset(self, kind: str, name: str, data: dict[str, Any]) -> PresetRecord:
        """Create or replace a preset."""
        if kind not in PRESET_KINDS:
            raise ConfigError(
                f"unknown preset kind {kind!r}",
                hint=f"Use one of {', '.join(sorted(PRESET_KINDS))}",
            )
        with self.transaction() as session:
            row = session.scalar(self._preset_query(kind, name))
            if row is None:
                row = PresetRow(owner_id=self.owner_id, kind=kind, name=name)
                session.add(row)
            row.data, row.updated_at = dumps(data), utcnow()
            session.flush()
            return _preset(row)

    def list_presets(self, kind: str | None = None) -> list[PresetRecord]:
        """Presets, optionally of one kind."""
        query = (
            select(PresetRow)
            .where(PresetRow.owner_id == self.owner_id)
            .order_by(PresetRow.kind, PresetRow.name)
        )
        if kind is not None:
            query = query.where(PresetRow.kind == kind)
        with self.transaction() as session:
            return [_preset(r) for r in session.scalars(query)]

    def get_preset(self, kind: str, name: str) -> PresetRecord | None:
        """A stored preset, or ``None``."""
        with self.transaction() as session:
            row = session.scalar(self._preset_query(kind, name))
            return _preset(row) if row else None

    def delete_preset(self, kind: str, name: str) -> None:
        """Delete a preset."""
        with self.transaction() as session:
            row = session.scalar(self._preset_query(kind, name))
            if row is None:
                raise NotFoundError(f"no {kind} preset named {name!r}")
            session.delete(row)

    def get_setting(self, key: str, default: Any = None) -> Any:
        """A user setting's JSON value, or ``default``."""
        with self.queries() as queries:
            text = queries.setting_json(key)
        return default if text is None else loads(text)

    def set_setting(self, key: str, value: Any) -> None:
        """Store a user setting (any JSON value)."""
        with self.transaction() as session:
            session.merge(SettingRow(owner_id=self.owner_id, key=key, value=dumps(value)))

    def _lorebook_query(self, name: str) -> Select[LorebookRow]:
        return select(LorebookRow).where(
            LorebookRow.owner_id == self.owner_id, LorebookRow.name == name
        )

    def _preset_query(self, kind: str, name: str) -> Select[PresetRow]:
        return select(PresetRow).where(
            PresetRow.owner_id == self.owner_id, PresetRow.kind == kind, PresetRow.name == name
        )

    def _persona_row(self, session: Session, persona_id: int) -> PersonaRow:
        row = self.owned(session, PersonaRow, persona_id)
        if row is None:
            raise NotFoundError(f"no persona with id {persona_id}")
        return row
