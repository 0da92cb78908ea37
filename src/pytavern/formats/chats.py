"""SillyTavern chat files (JSONL): a header line, then one JSON object per message.

Every line keeps its raw dictionary; the typed views read from it. Writing joins
``JSON.stringify`` of each object with ``\\n`` (no trailing newline), as SillyTavern saves.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pytavern.errors import FormatError
from pytavern.formats._json import js_dumps

_HINT = "The chat file may be cut short or edited by hand; restore it from a backup."


def _str(value: Any) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value)


@dataclass(frozen=True, slots=True, eq=False)
class ChatHeader:
    """The first line of a chat file."""

    raw: dict[str, Any]

    @property
    def user_name(self) -> str:
        """The user's name when the chat was created."""
        return _str(self.raw.get("user_name"))

    @property
    def character_name(self) -> str:
        """The character's name."""
        return _str(self.raw.get("character_name"))

    @property
    def create_date(self) -> str:
        """When the chat was created (SillyTavern's humanized date string)."""
        return _str(self.raw.get("create_date"))

    @property
    def chat_metadata(self) -> dict[str, Any]:
        """Chat metadata: author's note, chat lorebook, variables, timed World Info..."""
        meta = self.raw.get("chat_metadata")
        return meta if isinstance(meta, dict) else {}


@dataclass(frozen=True, slots=True, eq=False)
class ChatRecord:
    """One message line of a chat file."""

    raw: dict[str, Any]

    @property
    def name(self) -> str:
        """Who wrote it."""
        return _str(self.raw.get("name"))

    @property
    def is_user(self) -> bool:
        """Whether the user wrote it."""
        return bool(self.raw.get("is_user"))

    @property
    def is_system(self) -> bool:
        """Whether it is hidden from the prompt (system / hidden message)."""
        return bool(self.raw.get("is_system"))

    @property
    def mes(self) -> str:
        """The text."""
        return _str(self.raw.get("mes"))

    @property
    def send_date(self) -> Any:
        """When it was sent (a humanized string or epoch milliseconds)."""
        return self.raw.get("send_date")

    @property
    def swipes(self) -> list[str]:
        """All alternatives of this message (empty when it was never swiped)."""
        swipes = self.raw.get("swipes")
        return [_str(s) for s in swipes] if isinstance(swipes, list) else []

    @property
    def swipe_id(self) -> int:
        """Which swipe is shown."""
        sid = self.raw.get("swipe_id")
        return sid if isinstance(sid, int) else 0

    @property
    def swipe_info(self) -> list[dict[str, Any]]:
        """Per-swipe metadata ``{send_date, gen_started, gen_finished, extra}``."""
        info = self.raw.get("swipe_info")
        return [i for i in info if isinstance(i, dict)] if isinstance(info, list) else []

    @property
    def extra(self) -> dict[str, Any]:
        """Extra data (api, model, token_count, reasoning, type...)."""
        extra = self.raw.get("extra")
        return extra if isinstance(extra, dict) else {}


@dataclass(slots=True, eq=False)
class ChatFile:
    """A parsed chat: its header (``None`` for header-less files) and messages."""

    header: ChatHeader | None
    messages: list[ChatRecord] = field(default_factory=list)


def parse_chat_jsonl(data: bytes | str, filename: str) -> ChatFile:
    """Parse a SillyTavern chat file; the first line is the header unless it has ``mes``."""
    try:
        text = data.decode("utf-8-sig") if isinstance(data, bytes) else data.lstrip("\ufeff")
    except UnicodeDecodeError as exc:
        raise FormatError(
            f"{filename}: the chat is not UTF-8 text ({exc.reason} at byte {exc.start})",
            hint="Save the file as UTF-8 and try again.",
        ) from exc
    objects = list(_parse_lines(text, filename))
    if not objects:
        raise FormatError(f"{filename}: chat file is empty", hint=_HINT)
    first = objects[0][1]
    header = None if "mes" in first else ChatHeader(first)
    start = 0 if header is None else 1
    messages = []
    for lineno, obj in objects[start:]:
        if not isinstance(obj.get("mes", ""), str):
            raise FormatError(f"{filename}: line {lineno}: 'mes' is not a string", hint=_HINT)
        messages.append(ChatRecord(obj))
    return ChatFile(header, messages)


def _parse_lines(text: str, filename: str) -> Iterable[tuple[int, dict[str, Any]]]:
    for lineno, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise FormatError(
                f"{filename}: line {lineno} is not valid JSON ({exc.msg} at column {exc.colno})",
                hint=_HINT,
            ) from exc
        if not isinstance(obj, dict):
            raise FormatError(f"{filename}: line {lineno} is not a JSON object", hint=_HINT)
        yield lineno, obj


def chat_to_jsonl(chat: ChatFile) -> bytes:
    """Serialise a chat exactly as SillyTavern saves it."""
    lines = [] if chat.header is None else [js_dumps(chat.header.raw)]
    lines.extend(js_dumps(m.raw) for m in chat.messages)
    return "\n".join(lines).encode("utf-8")


def new_header(
    user_name: str,
    character_name: str,
    create_date: str,
    chat_metadata: dict[str, Any] | None = None,
) -> ChatHeader:
    """Build a header line for a new chat."""
    return ChatHeader(
        {
            "user_name": user_name,
            "character_name": character_name,
            "create_date": create_date,
            "chat_metadata": chat_metadata or {},
        }
    )


def new_record(
    name: str,
    mes: str,
    *,
    is_user: bool,
    send_date: Any,
    is_system: bool = False,
    extra: dict[str, Any] | None = None,
    swipes: list[str] | None = None,
    swipe_id: int | None = None,
    swipe_info: list[dict[str, Any]] | None = None,
) -> ChatRecord:
    """Build a message line with SillyTavern's field order."""
    raw: dict[str, Any] = {
        "name": name,
        "is_user": is_user,
        "is_system": is_system,
        "send_date": send_date,
        "mes": mes,
    }
    if swipes is not None:
        raw["swipe_id"] = swipe_id or 0
        raw["swipes"] = swipes
        raw["swipe_info"] = swipe_info or []
    raw["extra"] = extra or {}
    return ChatRecord(raw)
