"""Exporting everything as a SillyTavern-shaped user folder (what ``data/default-user`` holds).

Cards as PNG in ``characters/``, each character's chats as JSONL in ``chats/<card name>/``,
lorebooks in ``worlds/``, presets in ``instruct/``, ``context/``, ``sysprompt/`` and the
sampler folders, personas in ``settings.json`` (``power_user.personas`` and
``persona_descriptions``) with their images in ``User Avatars/``, the Data Bank's documents
in ``user/files/`` (listed in ``settings.json`` and the chats' metadata, ``st_databank``).
The folder imports back into pytavern (``import_sillytavern``) to the same counts.
"""

from __future__ import annotations

import json
import re
import tempfile
import zipfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pytavern.engine.st_databank import KIND, DatabankExport, export_documents
from pytavern.engine.st_extras import QUICK_REPLY_FOLDER, extension_settings, quick_reply_files
from pytavern.engine.st_import import SAMPLER_FOLDERS
from pytavern.engine.transfer import export_card, export_chat, export_lorebook
from pytavern.errors import ConfigError
from pytavern.formats.groups import GroupFile, group_to_json
from pytavern.formats.png import solid_png
from pytavern.formats.presets import SamplerPreset, sampler_preset_to_json
from pytavern.store import GroupRecord, PersonaRecord, PresetRecord, Store

Progress = Callable[[int, int, str], None]
_UNSAFE = re.compile(r'[\x00-\x1f<>:"/\\|?*]+')


def safe_name(name: str, taken: set[str]) -> str:
    """A file name (no extension) for ``name`` that is valid everywhere and not in ``taken``."""
    base = _UNSAFE.sub("_", name).strip(" .")[:120] or "unnamed"
    candidate, number = base, 1
    while candidate.lower() in taken:
        number += 1
        candidate = f"{base} ({number})"
    taken.add(candidate.lower())
    return candidate


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _preset_path(out: Path, preset: PresetRecord, taken: set[str]) -> Path:
    if preset.kind != "sampler":
        return out / preset.kind / f"{safe_name(preset.name, taken)}.json"
    for folder, suffix in SAMPLER_FOLDERS.items():
        if suffix and preset.name.endswith(suffix):
            stem = preset.name.removesuffix(suffix)
            return out / folder / f"{safe_name(stem, taken)}.json"
    return out / "TextGen Settings" / f"{safe_name(preset.name, taken)}.json"


def _persona_settings(
    store: Store, personas: list[PersonaRecord], out: Path, taken: set[str]
) -> dict[str, Any]:
    names: dict[str, str] = {}
    descriptions: dict[str, Any] = {}
    default = None
    for persona in personas:
        avatar = f"{safe_name(persona.name, taken)}.png"
        image = store.persona_avatar(persona.id) if persona.has_avatar else None
        _write(out / "User Avatars" / avatar, image or solid_png())
        names[avatar] = persona.name
        descriptions[avatar] = {
            "description": persona.description,
            "position": persona.position,
            "depth": persona.depth,
            "role": persona.role,
            **({"lorebook": persona.lorebook} if persona.lorebook else {}),
        }
        if persona.is_default:
            default = avatar
    power_user: dict[str, Any] = {"personas": names, "persona_descriptions": descriptions}
    if default:
        power_user["default_persona"] = default
    return {"power_user": power_user}


def _check_target(out: Path) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ConfigError(
            f"{out} is not an empty folder",
            hint="Export into a new or empty folder; nothing is overwritten",
        )


def export_all(store: Store, out: Path, *, progress: Progress | None = None) -> Counter[str]:
    """Write everything in ``store`` to ``out`` as a SillyTavern user folder; return counts."""
    _check_target(out)
    out.mkdir(mode=0o700, parents=True, exist_ok=True)
    counts: Counter[str] = Counter()
    characters = store.list_characters()
    groups = store.list_groups()
    group_chats = {g.chat_id for g in groups if g.chat_id is not None}
    chats = [c for c in store.list_chats() if c.id not in group_chats]
    total = len(characters) + len(chats)
    done = 0
    card_names: set[str] = set()
    stems = {c.id: safe_name(c.name, card_names) for c in characters}
    bank = export_documents(store, out, {i: f"{stem}.png" for i, stem in stems.items()})
    for character in characters:
        stem = stems[character.id]
        _write(out / "characters" / f"{stem}.png", export_card(store, character.id, png=True))
        counts["characters"] += 1
        titles: set[str] = set()
        for chat in (c for c in chats if c.character_id == character.id):
            title = safe_name(chat.title or f"{character.name} chat", titles)
            data = bank.chat_file(chat.id, export_chat(store, chat.id))
            _write(out / "chats" / stem / f"{title}.jsonl", data)
            counts["chats"] += 1
            done += 1
            if progress:
                progress(done, total, f"chats/{stem}/{title}.jsonl")
        done += 1
        if progress:
            progress(done, total, f"characters/{stem}.png")
    counts += export_groups(store, out, groups, stems, bank)
    books: set[str] = set()
    for book in store.list_lorebooks():
        _write(
            out / "worlds" / f"{safe_name(book.name, books)}.json",
            export_lorebook(store, book.name),
        )
        counts["lorebooks"] += 1
    taken: dict[str, set[str]] = {}
    for preset in store.list_presets():
        path = _preset_path(out, preset, taken.setdefault(preset.kind, set()))
        _write(path, sampler_preset_to_json(SamplerPreset(preset.name, preset.data)))
        counts["presets"] += 1
    personas = store.list_personas()
    settings = _persona_settings(store, personas, out, set())
    settings["extension_settings"] = extension_settings(store) | bank.settings
    _write(out / "settings.json", json.dumps(settings, indent=4, ensure_ascii=False).encode())
    counts["personas"] += len(personas)
    if settings["extension_settings"]["regex"]:
        counts["regex scripts"] += len(settings["extension_settings"]["regex"])
    if bank.count:
        counts[KIND] += bank.count
    sets: set[str] = set()
    for name, data in quick_reply_files(store):
        _write(out / QUICK_REPLY_FOLDER / f"{safe_name(name, sets)}.json", data)
        counts["quick reply sets"] += 1
    return counts


def export_groups(
    store: Store,
    out: Path,
    groups: list[GroupRecord],
    stems: dict[int, str],
    bank: DatabankExport | None = None,
) -> Counter[str]:
    """Write groups to ``groups/<id>.json`` (members named by their exported card files) and
    their chats to ``group chats/<chat_id>.jsonl``, as SillyTavern keeps them (with the
    chats' Data Bank documents listed in ``bank``)."""
    counts: Counter[str] = Counter()
    names: set[str] = set()
    for group in groups:
        file = GroupFile(group.data)
        renamed = dict(zip(file.members, group.member_ids, strict=False))
        avatar = {a: f"{stems[i]}.png" for a, i in renamed.items() if i in stems}
        members = [avatar.get(a, a) for a in file.members]
        disabled = [avatar.get(a, a) for a in file.disabled_members]
        file = file.with_changes(members=members, disabled_members=disabled)
        group_id = safe_name(file.id or group.name, names)
        _write(out / "groups" / f"{group_id}.json", group_to_json(file))
        counts["groups"] += 1
        if group.chat_id is not None:
            chat_name = safe_name(file.chat_id or f"{group.name} chat", set())
            data = export_chat(store, group.chat_id)
            data = bank.chat_file(group.chat_id, data) if bank is not None else data
            _write(out / "group chats" / f"{chat_name}.jsonl", data)
            counts["group chats"] += 1
    return counts


def export_all_zip(store: Store, target: Path) -> Counter[str]:
    """Write everything in ``store`` as a zipped SillyTavern user folder (file ``target``)."""
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".pytavern-export-") as scratch:
        folder = Path(scratch) / "default-user"
        counts = export_all(store, folder)
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    archive.write(path, path.relative_to(folder.parent).as_posix())
    return counts
