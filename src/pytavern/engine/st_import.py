"""Importing a whole SillyTavern user folder: cards with their chats, worlds, presets, personas.

Both layouts are understood: ``data/<user>/`` (SillyTavern 1.12+) and the older ``public/``
folder. Every file is read completely before anything of it is stored, and each is stored
in one transaction, so a broken file is listed and skipped and nothing is half-imported.
Re-running imports nothing twice: cards are recognised by their content, chats by the
fingerprint of the file they came from, lorebooks and presets by name and content, personas
by name and description. Groups (``groups/<id>.json``) come with their current chat (``group
chats/<chat_id>.jsonl``), recognised by their SillyTavern id; their older chats are listed as
skipped. The Data Bank's attachments (global, a card's, a chat's, from ``user/files/``) come
last, once the cards and chats they belong to are stored (``st_databank``).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytavern.engine.st_databank import (
    FILES,
    DatabankImport,
    header_attachments,
    settings_of,
    take_chat_attachments,
)
from pytavern.engine.st_extras import QUICK_REPLY_FOLDER, import_quick_replies, import_regex
from pytavern.engine.transfer import ST_SOURCE, ChatImport, read_chat_import
from pytavern.errors import FormatError, NotFoundError, PytavernError
from pytavern.formats._json import load_json_object
from pytavern.formats.cards import Card, read_card_file
from pytavern.formats.groups import GroupFile, read_group
from pytavern.formats.presets import read_sampler_preset, read_template
from pytavern.formats.worldinfo import read_lorebook
from pytavern.store import Store

Progress = Callable[[int, int, str], None]
"""Called after each file: (files done, files in all, the file's path relative to the folder)."""

CARD_SUFFIXES = (".png", ".json", ".charx")
TEMPLATE_FOLDERS = {"instruct": "instruct", "context": "context", "sysprompt": "sysprompt"}
SAMPLER_FOLDERS = {
    "TextGen Settings": "",
    "KoboldAI Settings": " (KoboldAI)",
    "NovelAI Settings": " (NovelAI)",
    "OpenAI Settings": " (OpenAI)",
}
"""Sampler preset folders and the suffix their names get (the same name exists per API)."""
GROUP_CHAT_OLDER = "an older chat of a group: pytavern keeps a group's current chat"
GROUP_CHAT_ORPHAN = "no group in groups/ has this chat"
UNMODELLED_FOLDERS = {
    "backgrounds": "backgrounds are not modelled in pytavern yet",
}
"""Folders listed as skipped as a whole (when they hold anything)."""


def locate_user_folder(path: Path) -> Path:
    """The SillyTavern user folder in or at ``path`` (``data/default-user`` or ``public``)."""
    for candidate in (path, path / "data" / "default-user", path / "default-user", path / "public"):
        if (candidate / "characters").is_dir():
            return candidate
    raise NotFoundError(
        f"{path} does not look like a SillyTavern folder (no characters/ in it)",
        hint="Give SillyTavern's data/default-user folder, or its install folder",
    )


def _normalised(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {str(k): _normalised(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalised(v) for v in value]
    return value


def content_key(value: Any) -> str:
    """A fingerprint of a JSON value that ignores key order and ``1.0`` versus ``1``."""
    text = json.dumps(_normalised(value), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def card_key(card: Card) -> str:
    """A card's fingerprint: its V2 data, whatever file (PNG, JSON, V1/V2/V3) carried it."""
    return content_key(card.to_v2().data)


@dataclass
class ImportSummary:
    """What an import did (or, with ``dry_run``, would do)."""

    dry_run: bool
    imported: Counter[str] = field(default_factory=Counter)
    present: Counter[str] = field(default_factory=Counter)
    """Already in pytavern (an earlier import, or the same content): not imported again."""
    skipped: list[tuple[str, str]] = field(default_factory=list)
    broken: list[tuple[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return {
            "dry_run": self.dry_run,
            "imported": dict(self.imported),
            "already_present": dict(self.present),
            "skipped": [{"file": f, "reason": r} for f, r in self.skipped],
            "broken": [{"file": f, "error": e} for f, e in self.broken],
        }


@dataclass(frozen=True, slots=True)
class _Work:
    kind: str
    path: Path
    character: Path | None = None


class _Importer:
    def __init__(self, store: Store, root: Path, dry_run: bool, progress: Progress | None):
        self.store = store
        self.root = root
        self.summary = ImportSummary(dry_run)
        self.progress = progress
        self.cards = {card_key(Card(r.card)): r.id for r in store.list_characters()}
        self.chats: dict[Any, int | None] = {
            c.metadata.get(ST_SOURCE): c.id for c in store.list_chats()
        }
        """The SillyTavern files imported (their fingerprint), to the chat they became."""
        self.card_ids: dict[Path, int | None] = {}
        self.broken_cards: set[Path] = set()
        self.groups = {str(g.data.get("id") or ""): g.chat_id for g in store.list_groups()}
        self.groups.pop("", None)
        self.group_chats: dict[str, str] = {}
        """Group chat names seen in groups/: ``"current"`` or ``"older"``."""
        self.databank = DatabankImport(store, root, self.summary)

    def plan(self) -> list[_Work]:
        work = [_Work("lorebook", p) for p in _files(self.root / "worlds", ".json")]
        for folder in (*TEMPLATE_FOLDERS, *SAMPLER_FOLDERS):
            work += [_Work("preset", p) for p in _files(self.root / folder, ".json")]
        if (self.root / "settings.json").is_file():
            work.append(_Work("personas", self.root / "settings.json"))
        work += [_Work("quick replies", p) for p in _files(self.root / QUICK_REPLY_FOLDER, ".json")]
        for card in _files(self.root / "characters", *CARD_SUFFIXES):
            work.append(_Work("character", card))
            chats = self.root / "chats" / card.stem
            work += [_Work("chat", p, card) for p in _files(chats, ".jsonl")]
        known = {p.stem for p in _files(self.root / "characters", *CARD_SUFFIXES)}
        for chat_folder in _folders(self.root / "chats"):
            if chat_folder.name not in known:
                work += [_Work("orphan chat", p) for p in _files(chat_folder, ".jsonl")]
        work += [_Work("group", p) for p in _files(self.root / "groups", ".json")]
        work += [_Work("group chat", p) for p in _files(self.root / "group chats", ".jsonl")]
        for folder in UNMODELLED_FOLDERS:
            if (self.root / folder).is_dir() and any((self.root / folder).iterdir()):
                work.append(_Work("folder", self.root / folder))
        work.append(_Work("databank", self.root / FILES))  # last: the cards and chats are in
        return work

    def run(self) -> ImportSummary:
        work = self.plan()
        for done, item in enumerate(work, 1):
            name = str(item.path.relative_to(self.root))
            try:
                self.one(item, name)
            except PytavernError as error:
                self.summary.broken.append((name, str(error)))
            except (OSError, UnicodeDecodeError, ValueError) as error:
                self.summary.broken.append((name, f"cannot be read ({error})"))
            if self.progress is not None:
                self.progress(done, len(work), name)
        return self.summary

    def one(self, item: _Work, name: str) -> None:
        if item.kind == "databank":
            cards = {path.name: card_id for path, card_id in self.card_ids.items()}
            self.databank.run(settings_of(self.root / "settings.json"), cards)
        elif item.kind == "group chat":
            self.group_chat(item.path, name)
        elif item.kind == "group":
            self.group(item.path)
        elif item.kind == "folder":
            self.summary.skipped.append((f"{name}/", UNMODELLED_FOLDERS[name]))
        elif item.kind == "orphan chat":
            self.summary.skipped.append((name, "no character card of that name in characters/"))
        elif item.kind == "character":
            self.character(item.path)
        elif item.kind == "chat":
            self.chat(item, name)
        elif item.kind == "lorebook":
            self.lorebook(item.path)
        elif item.kind == "preset":
            self.preset(item.path, name)
        elif item.kind == "quick replies":
            new = import_quick_replies(
                self.store, item.path.read_bytes(), dry_run=self.summary.dry_run
            )
            self.count("quick reply sets", new=new)
        else:  # settings.json
            self.regex(item.path)
            self.personas(item.path)

    def regex(self, path: Path) -> None:
        settings = load_json_object(path.read_bytes(), path.name, "settings")
        new, present = import_regex(self.store, settings, dry_run=self.summary.dry_run)
        if new:
            self.summary.imported["regex scripts"] += new
        if present:
            self.summary.present["regex scripts"] += present

    def count(self, kind: str, *, new: bool) -> None:
        (self.summary.imported if new else self.summary.present)[kind] += 1

    def character(self, path: Path) -> None:
        self.broken_cards.add(path)
        card, avatar = read_card_file(path.read_bytes(), path.name)
        self.broken_cards.discard(path)
        self.card_ids[path] = None
        key = card_key(card)
        if key in self.cards:
            self.card_ids[path] = self.cards[key]
            self.count("characters", new=False)
            return
        if not self.summary.dry_run:
            self.cards[key] = self.store.add_character(card.raw, avatar=avatar).id
            self.card_ids[path] = self.cards[key]
        self.count("characters", new=True)

    def chat(self, item: _Work, name: str) -> None:
        assert item.character is not None
        if item.character in self.broken_cards:
            self.summary.skipped.append((name, "its character card is broken"))
            return
        data = item.path.read_bytes()
        source = hashlib.sha256(data).hexdigest()
        if source in self.chats:
            self.count("chats", new=False)
            self.databank.chat(name, self.chats[source], header_attachments(data))
            return
        chat = read_chat_import(data, item.path.name, source=source)
        attachments = take_chat_attachments(chat.metadata)
        character_id = self.card_ids.get(item.character)
        chat_id = None
        if not self.summary.dry_run and character_id is not None:
            chat_id = self.store.import_chat(
                character_id,
                title=chat.title,
                metadata=chat.metadata,
                messages=chat.messages,
            ).id
        self.chats[source] = chat_id
        self.databank.chat(name, chat_id, attachments)
        self.count("chats", new=True)

    def group(self, path: Path) -> None:
        file = read_group(path.read_bytes(), path.name)
        for chat_name in file.chats:
            self.group_chats.setdefault(chat_name, "older")
        if file.chat_id:
            self.group_chats[file.chat_id] = "current"
        chat_path = self.root / "group chats" / f"{file.chat_id}.jsonl"
        has_chat = bool(file.chat_id) and chat_path.is_file()
        chat_name = str(chat_path.relative_to(self.root))
        if file.id and file.id in self.groups:
            self.count("groups", new=False)
            if has_chat:
                found = header_attachments(chat_path.read_bytes())
                self.databank.chat(chat_name, self.groups[file.id], found)
            return
        cards = [self.root / "characters" / avatar for avatar in file.members]
        missing = [c.name for c in cards if c not in self.card_ids]
        if missing or not cards:
            raise NotFoundError(
                f"its members are not among the cards: {', '.join(missing) or '(none)'}",
                hint="Put the members' cards in characters/ and import again",
            )
        chat = None
        if has_chat:
            data = chat_path.read_bytes()
            source = hashlib.sha256(data).hexdigest()
            chat = read_chat_import(data, chat_path.name, source=source)
        attachments = take_chat_attachments(chat.metadata) if chat is not None else []
        ids = [self.card_ids[c] for c in cards]
        chat_id = None
        if not self.summary.dry_run and all(i is not None for i in ids):
            member_ids = [i for i in ids if i is not None]
            chat_id = self.store_group(file, path, member_ids, chat)
        self.groups[file.id] = chat_id
        self.databank.chat(chat_name, chat_id, attachments)
        self.count("groups", new=True)

    def store_group(
        self, file: GroupFile, path: Path, member_ids: list[int], chat: ChatImport | None
    ) -> int | None:
        """Store a group and its current chat; the chat's id."""
        chat_id = None
        if chat is not None:
            chat_id = self.store.import_chat(
                member_ids[0],
                title=chat.title,
                metadata=chat.metadata,
                messages=chat.messages,
            ).id
        name = self.store.unique_group_name(file.name or path.stem)
        raw = file.with_changes(name=name).raw
        self.store.create_group(name, raw, member_ids, chat_id)
        return chat_id

    def group_chat(self, path: Path, name: str) -> None:
        seen = self.group_chats.get(path.stem)
        if seen == "current":
            return
        reason = GROUP_CHAT_OLDER if seen == "older" else GROUP_CHAT_ORPHAN
        self.summary.skipped.append((name, reason))

    def lorebook(self, path: Path) -> None:
        book = read_lorebook(path.read_bytes(), path.name)
        try:
            existing: dict[str, Any] | None = self.store.get_lorebook(book.name).data
        except NotFoundError:
            existing = None
        if self.same_or_clash(existing, book.raw, "lorebooks", str(path.relative_to(self.root))):
            return
        if not self.summary.dry_run:
            self.store.save_lorebook(book.name, book.raw)
        self.count("lorebooks", new=True)

    def same_or_clash(
        self, existing: dict[str, Any] | None, raw: dict[str, Any], kind: str, name: str
    ) -> bool:
        """True (and counted) when something of that name is already stored."""
        if existing is None:
            return False
        if content_key(existing) == content_key(raw):
            self.count(kind, new=False)
        else:
            self.summary.skipped.append((name, "one of that name exists with other content"))
        return True

    def preset(self, path: Path, name: str) -> None:
        folder = path.parent.name
        data = path.read_bytes()
        if folder in TEMPLATE_FOLDERS:
            kind = TEMPLATE_FOLDERS[folder]
            raw = read_template(kind, data, path.name).raw  # type: ignore[arg-type]
            title = path.stem
        else:
            kind = "sampler"
            raw = read_sampler_preset(data, path.name).raw
            title = path.stem + SAMPLER_FOLDERS[folder]
        existing = self.store.get_preset(kind, title)
        if self.same_or_clash(existing.data if existing else None, raw, "presets", name):
            return
        if not self.summary.dry_run:
            self.store.save_preset(kind, title, raw)
        self.count("presets", new=True)

    def personas(self, path: Path) -> None:
        settings = load_json_object(path.read_bytes(), path.name, "settings")
        power_user = settings.get("power_user")
        if not isinstance(power_user, dict):
            return
        names = power_user.get("personas")
        descriptions = power_user.get("persona_descriptions") or {}
        if not isinstance(names, dict) or not isinstance(descriptions, dict):
            raise FormatError(f"{path.name}: power_user.personas is not an object")
        existing = {(p.name, p.description) for p in self.store.list_personas()}
        for avatar, persona_name in names.items():
            fields = _persona_fields(str(persona_name), descriptions.get(avatar))
            if (fields["name"], fields["description"]) in existing:
                self.count("personas", new=False)
                continue
            if not self.summary.dry_run:
                self.save_persona(fields, avatar, avatar == power_user.get("default_persona"))
            self.count("personas", new=True)

    def save_persona(self, fields: dict[str, Any], avatar: str, default: bool) -> None:
        image = self.root / "User Avatars" / Path(avatar).name
        picture = image.read_bytes() if image.is_file() else None
        record = self.store.save_persona(avatar=picture, **fields)
        if default and self.store.default_persona() is None:
            self.store.set_default_persona(record.id)


def _persona_fields(name: str, description: Any) -> dict[str, Any]:
    info = description if isinstance(description, dict) else {}
    lorebook = info.get("lorebook")
    return {
        "name": name,
        "description": str(info.get("description") or ""),
        "position": _int(info.get("position"), 0),
        "depth": _int(info.get("depth"), 2),
        "role": _int(info.get("role"), 0),
        "lorebook": str(lorebook) if lorebook else None,
    }


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _files(folder: Path, *suffixes: str) -> Iterator[Path]:
    if not folder.is_dir():
        return iter(())
    found = (p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in suffixes)
    return iter(sorted(found))


def _folders(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []


def import_sillytavern(
    store: Store, path: Path, *, dry_run: bool = False, progress: Progress | None = None
) -> ImportSummary:
    """Import everything in a SillyTavern user folder that is not in ``store`` yet.

    With ``dry_run`` every file is read and checked, and nothing is stored.
    """
    root = locate_user_folder(path)
    return _Importer(store, root, dry_run, progress).run()
