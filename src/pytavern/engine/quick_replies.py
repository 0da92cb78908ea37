"""Quick replies: the sets a user keeps, and what pressing a button does.

A button's text is either plain text (sent as the user's message, or put into the input box
when the set says so) or a script of slash commands joined by ``|``. pytavern runs a small,
safe subset of SillyTavern's STscript, and refuses anything else before doing anything:

``/send TEXT`` adds TEXT as the user's message (no reply), ``/trigger`` asks for a reply,
``/continue``, ``/swipe`` and ``/impersonate`` do what their buttons do, ``/setinput TEXT``
puts TEXT into the input box. Named arguments (``/trigger await=true``) are accepted and
ignored. Macros are substituted (``{{input}}`` is the input box's text).

``plan`` turns a button into these steps; the face runs them in order.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from pytavern.engine.stored_settings import load_setting, save_setting
from pytavern.errors import FormatError, NotFoundError
from pytavern.formats.quick_replies import QuickReply, QuickReplySet, set_from_dict
from pytavern.prompt.macros import MacroContext, evaluate
from pytavern.store import Store

SETTING_KEY = "quick_replies"
Command = Literal["send", "trigger", "continue", "swipe", "impersonate", "setinput"]
COMMANDS: tuple[Command, ...] = ("send", "trigger", "continue", "swipe", "impersonate", "setinput")
_TAKES_TEXT = frozenset({"send", "setinput"})
_NAMED_ARG = re.compile(r"^[A-Za-z_]\w*=(\"[^\"]*\"|\S*)\s*")
_PIPE = re.compile(r"(?<!\\)\|")


class QuickReplySettings(BaseModel):
    """The stored sets (SillyTavern JSON) and which ones show their buttons."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    sets: list[dict[str, Any]] = Field(default_factory=list)
    active: list[str] = Field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Step:
    """One thing a button does."""

    command: Command
    text: str = ""

    def to_dict(self) -> dict[str, str]:
        """The step as the REST API gives it."""
        return {"command": self.command, "text": self.text}


def load_settings(store: Store) -> QuickReplySettings:
    """The stored quick-reply setting (empty when never set)."""
    return load_setting(
        store,
        SETTING_KEY,
        QuickReplySettings,
        what="quick replies",
        hint="Import the sets again with `pytavern quick-replies import FILE`",
    )


def save_settings(store: Store, settings: QuickReplySettings) -> None:
    """Store the quick-reply setting."""
    save_setting(store, SETTING_KEY, settings)


def stored_sets(settings: QuickReplySettings) -> list[QuickReplySet]:
    """Every stored set, parsed."""
    return [set_from_dict(raw) for raw in settings.sets]


def find_set(settings: QuickReplySettings, name: str) -> QuickReplySet:
    """The stored set called ``name``."""
    for reply_set in stored_sets(settings):
        if reply_set.name == name:
            return reply_set
    raise NotFoundError(
        f"no quick-reply set called {name!r}",
        hint="List them with `pytavern quick-replies list`",
    )


def _command(part: str) -> Step:
    body = part.strip()
    name, _sep, rest = body[1:].partition(" ")
    name = name.strip().lower()
    if name not in COMMANDS:
        allowed = ", ".join(f"/{c}" for c in COMMANDS)
        raise FormatError(
            f"the quick reply runs /{name}, which pytavern does not run",
            hint=f"pytavern runs only {allowed}; edit the quick reply",
        )
    rest = rest.strip()
    while (found := _NAMED_ARG.match(rest)) is not None:
        rest = rest[found.end() :]
    text = rest.replace("\\|", "|")
    if name == "send" and not text:
        raise FormatError("/send needs a text to send", hint="Write /send followed by the text")
    return Step(name, text if name in _TAKES_TEXT else "")


def parse_script(message: str) -> list[Step]:
    """A script's steps (every command checked before any is run)."""
    parts = [part for part in _PIPE.split(message.strip()) if part.strip()]
    steps = []
    for part in parts:
        if not part.strip().startswith("/"):
            raise FormatError(
                f"{part.strip()[:40]!r} is not a slash command",
                hint="Every part of a quick-reply script between | starts with /",
            )
        steps.append(_command(part))
    return steps


def script_problem(message: str) -> str | None:
    """Why a button's script would be refused, or ``None`` when it runs."""
    if not message.lstrip().startswith("/"):
        return None
    try:
        parse_script(message)
    except FormatError as exc:
        return str(exc)
    return None


def plan(reply_set: QuickReplySet, reply: QuickReply, ctx: MacroContext, typed: str) -> list[Step]:
    """What pressing ``reply`` does, with macros substituted (``typed``: the input box)."""
    context = dataclasses.replace(ctx, extra={**ctx.extra, "input": typed})
    message = reply.message
    if message.lstrip().startswith("/"):
        return [
            Step(step.command, evaluate(step.text, context) if step.text else "")
            for step in parse_script(message)
        ]
    text = evaluate(message, context)
    if reply_set.inject_input and typed:
        text = f"{text} {typed}" if reply_set.place_before_input else f"{typed} {text}"
    if reply_set.disable_send:
        return [Step("setinput", text)]
    return [Step("send", text), Step("trigger")]
