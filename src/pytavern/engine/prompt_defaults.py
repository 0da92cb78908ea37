"""SillyTavern's out-of-the-box prompt choices, applied to the prompt builder's settings.

- System prompt (text backends): the "Neutral - Chat" system-prompt preset unless another is
  chosen or the switch is off; a card's own system prompt is preferred, with ``{{original}}``
  standing for the preset's text. A system prompt typed in the settings wins over presets.
- Post-History Instructions: a card's own are preferred (chat backends, and text backends
  whose context template allows them), with ``{{original}}`` standing for the user's.
- Instruct mode (text backends): off by default (the "Default" context template: plain
  ``Name: text`` lines), on when chosen or when an instruct template is picked; when on, a
  bundled template whose activation regex matches the model name wins, as in SillyTavern.
- The built-in model is not a text backend: it keeps its GGUF's own chat template.
"""

from __future__ import annotations

import re
from dataclasses import replace
from functools import cache

from pytavern.engine.preferences import GenerationPreferences
from pytavern.engine.turn_loader import TurnData
from pytavern.errors import ConfigError
from pytavern.formats.presets import (
    ContextTemplate,
    InstructTemplate,
    SystemPrompt,
    bundled_names,
    load_bundled,
)
from pytavern.prompt.inputs import ChatSettings, PromptSettings, TextSettings
from pytavern.prompt.worldinfo import WorldInfoSettings
from pytavern.store import Store

DEFAULT_SYSTEM_PROMPT_PRESET = "Neutral - Chat"
FALLBACK_INSTRUCT = "ChatML"


def instruct_on(preferences: GenerationPreferences) -> bool:
    """Whether text backends get instruct formatting: the switch, else whether a template
    was picked."""
    if preferences.instruct_enabled is not None:
        return preferences.instruct_enabled
    return preferences.instruct_template is not None


def matching_instruct(store: Store, model: str) -> InstructTemplate | None:
    """The first instruct template, the user's then the bundled ones, whose activation regex
    matches ``model`` (SillyTavern's "auto-select by model name")."""
    if not model:
        return None
    stored = [InstructTemplate.from_dict(p.data) for p in store.list_presets("instruct")]
    for template in [*stored, *(_bundled_instruct(n) for n in bundled_names("instruct"))]:
        pattern = template.activation_regex
        if pattern and _matches(pattern, model):
            return template
    return None


def choose_instruct(
    store: Store,
    preferences: GenerationPreferences,
    stored: InstructTemplate | None,
    model: str,
) -> InstructTemplate | None:
    """The instruct template for a text backend, ``None`` when instruct mode is off.

    SillyTavern's order: a template matching the model name (auto-select), else the chosen
    one (stored, else bundled), else ChatML."""
    if not instruct_on(preferences):
        return None
    auto = matching_instruct(store, model) if preferences.instruct_auto_select else None
    if auto is not None:
        return auto
    if stored is not None:
        return stored
    name = preferences.instruct_template
    return _bundled_instruct(name if name in bundled_names("instruct") else FALLBACK_INSTRUCT)


def choose_context(stored: ContextTemplate | None, name: str) -> ContextTemplate:
    """The context template: stored, else bundled by that name, else "Default".

    The bundled "Default" is used as SillyTavern's first run has it (its ``settings.json``
    turns ``use_stop_strings`` on, so ``\n***`` is a stop string too)."""
    if stored is not None:
        return stored
    name = name if name in bundled_names("context") else "Default"
    template = load_bundled("context", name)
    assert isinstance(template, ContextTemplate)
    return replace(template, use_stop_strings=True) if name == "Default" else template


def text_settings(store: Store, turn: TurnData) -> TextSettings:
    """The text-completion settings of a turn (instruct on/off, context template)."""
    prefs = turn.preferences
    return TextSettings(
        instruct=choose_instruct(store, prefs, turn.instruct, turn.record.model or ""),
        context=choose_context(turn.context, prefs.context_template),
    )


def system_prompt_text(store: Store, preferences: GenerationPreferences) -> str | None:
    """The text-mode system prompt: ``None`` when switched off, the typed one if any, else
    the chosen preset's content (stored, else bundled)."""
    if not preferences.system_prompt_enabled:
        return None
    if preferences.system_prompt is not None:
        return preferences.system_prompt
    return load_system_prompt(store, preferences.system_prompt_preset).content


def load_system_prompt(store: Store, name: str) -> SystemPrompt:
    """A system-prompt preset by name: the user's stored one, else the bundled one."""
    stored = store.get_preset("sysprompt", name)
    if stored is not None:
        return SystemPrompt.from_dict(stored.data)
    if name in bundled_names("sysprompt"):
        preset = load_bundled("sysprompt", name)
        assert isinstance(preset, SystemPrompt)
        return preset
    raise ConfigError(
        f"there is no system-prompt preset named {name!r}",
        hint="Pick one in the settings (Prompt tab) or import it; "
        f'"{DEFAULT_SYSTEM_PROMPT_PRESET}" is bundled',
    )


def prompt_settings(
    store: Store,
    preferences: GenerationPreferences,
    chat: ChatSettings,
    text: TextSettings | None,
    *,
    context_size: int,
    max_reply_tokens: int,
) -> PromptSettings:
    """How to build a prompt: Text Completion's ``text`` settings (``None``:
    Chat Completion), ``chat``'s with the user's Post-History Instructions, the system
    prompt and the "prefer the card's" switches from the preferences. Built in one step,
    the unchanged parts shared (a frozen dataclass costs about a tenth of a microsecond a
    field to build, and a turn built these three times over)."""
    if preferences.post_history_instructions:
        chat = replace(chat, post_history_instructions=preferences.post_history_instructions)
    return PromptSettings(
        mode="chat" if text is None else "text",
        context_size=context_size,
        max_reply_tokens=max_reply_tokens,
        system_prompt=preferences.system_prompt
        if text is None
        else system_prompt_text(store, preferences),
        prefer_character_prompt=preferences.prefer_character_prompt,
        prefer_character_jailbreak=preferences.prefer_character_jailbreak,
        trim_sentences=preferences.trim_sentences,
        chat=chat,
        text=_chat_mode_text() if text is None else text,
        world_info=_world_info_defaults(),
    )


@cache
def chat_settings(continue_prefill: bool) -> ChatSettings:
    """SillyTavern's default Chat Completion settings (one shared instance each)."""
    return ChatSettings(continue_prefill=continue_prefill)


@cache
def _chat_mode_text() -> TextSettings:
    return TextSettings()


@cache
def _world_info_defaults() -> WorldInfoSettings:
    return WorldInfoSettings()


def _bundled_instruct(name: str) -> InstructTemplate:
    template = load_bundled("instruct", name)
    assert isinstance(template, InstructTemplate)
    return template


def _matches(pattern: str, model: str) -> bool:
    """SillyTavern's ``regexFromString``: ``/body/flags`` or a bare pattern; invalid ones
    never match."""
    m = re.fullmatch(r"/(.*)/([a-z]*)", pattern, re.DOTALL)
    body, flags = (m.group(1), m.group(2)) if m else (pattern, "")
    try:
        compiled = re.compile(body, re.IGNORECASE if "i" in flags else 0)
    except re.error:
        return False
    return compiled.search(model) is not None
