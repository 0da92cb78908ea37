"""SillyTavern regex scripts: the JSON of one script (or a list of them), read and written
losslessly (fields we do not use are kept in ``raw``)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from pytavern.errors import FormatError


class Placement(IntEnum):
    """Where a script applies (SillyTavern's ``regex_placement``; 0 and 4 are legacy)."""

    MD_DISPLAY = 0
    USER_INPUT = 1
    AI_OUTPUT = 2
    SLASH_COMMAND = 3
    WORLD_INFO = 5
    REASONING = 6


class Substitute(IntEnum):
    """Whether macros in the find pattern are substituted, and how (``substituteRegex``)."""

    NONE = 0
    RAW = 1
    ESCAPED = 2


@dataclass(frozen=True, slots=True)
class RegexScript:
    """One SillyTavern regex script."""

    id: str
    name: str
    find: str
    replace: str = ""
    trim: tuple[str, ...] = ()
    placement: tuple[int, ...] = ()
    disabled: bool = False
    markdown_only: bool = False
    """Display-only: changes what is shown, never what is stored or sent."""
    prompt_only: bool = False
    """Prompt-only: changes what is sent, never what is stored or shown."""
    run_on_edit: bool = False
    substitute: Substitute = Substitute.NONE
    min_depth: int | None = None
    max_depth: int | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The script as SillyTavern JSON (unknown fields of the original kept)."""
        return self.raw | {
            "id": self.id,
            "scriptName": self.name,
            "findRegex": self.find,
            "replaceString": self.replace,
            "trimStrings": list(self.trim),
            "placement": list(self.placement),
            "disabled": self.disabled,
            "markdownOnly": self.markdown_only,
            "promptOnly": self.prompt_only,
            "runOnEdit": self.run_on_edit,
            "substituteRegex": int(self.substitute),
            "minDepth": self.min_depth,
            "maxDepth": self.max_depth,
        }


def _depth(value: Any) -> int | None:
    if isinstance(value, bool) or value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _substitute(value: Any) -> Substitute:
    if isinstance(value, bool):  # older files: true meant "raw"
        return Substitute.RAW if value else Substitute.NONE
    try:
        return Substitute(int(value))
    except (TypeError, ValueError):
        return Substitute.NONE


def _placements(value: Any) -> tuple[int, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(int(item) for item in value if isinstance(item, int | float))


def script_from_dict(data: Any) -> RegexScript:
    """One script from its SillyTavern JSON object (a clear error if it is not one)."""
    if not isinstance(data, dict) or not isinstance(data.get("findRegex", ""), str):
        raise FormatError(
            "not a SillyTavern regex script",
            hint="Export the script from SillyTavern's Regex extension (a .json file)",
        )
    trim = data.get("trimStrings")
    return RegexScript(
        id=str(data.get("id") or uuid.uuid4()),
        name=str(data.get("scriptName") or "").strip() or "Unnamed script",
        find=str(data.get("findRegex") or ""),
        replace=str(data.get("replaceString") or ""),
        trim=tuple(str(item) for item in trim) if isinstance(trim, list) else (),
        placement=_placements(data.get("placement")),
        disabled=bool(data.get("disabled")),
        markdown_only=bool(data.get("markdownOnly")),
        prompt_only=bool(data.get("promptOnly")),
        run_on_edit=bool(data.get("runOnEdit")),
        substitute=_substitute(data.get("substituteRegex", 0)),
        min_depth=_depth(data.get("minDepth")),
        max_depth=_depth(data.get("maxDepth")),
        raw=dict(data),
    )


def scripts_from_value(value: Any) -> list[RegexScript]:
    """Scripts from a JSON value: one script object, or a list of them."""
    items = value if isinstance(value, list) else [value]
    return [script_from_dict(item) for item in items]


def read_scripts(data: bytes) -> list[RegexScript]:
    """Scripts from a SillyTavern regex file (one script, or a list of scripts)."""
    try:
        value = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FormatError(
            f"the regex file is not valid JSON ({exc})",
            hint="Export the script from SillyTavern's Regex extension (a .json file)",
        ) from None
    return scripts_from_value(value)


def write_scripts(scripts: list[RegexScript]) -> bytes:
    """Scripts as a SillyTavern file: one object for one script, else a list."""
    value: Any = scripts[0].to_dict() if len(scripts) == 1 else [s.to_dict() for s in scripts]
    return json.dumps(value, ensure_ascii=False, indent=4).encode("utf-8")
