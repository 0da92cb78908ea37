"""Instruct-mode formatting, stop strings and output cleaning (SillyTavern semantics)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

from pytavern.formats.presets import ContextTemplate, InstructTemplate
from pytavern.prompt.examples import split_turns
from pytavern.prompt.macros import replace_names

Force = Literal["first", "last"] | None


def _sub(t: InstructTemplate, seq: str, user: str, char: str, name: str | None) -> str:
    if not t.macro:
        return seq
    seq = replace_names(seq, user, char)
    return re.sub(r"{{name}}", lambda _m: name or "System", seq, flags=re.IGNORECASE)


def _prefix(t: InstructTemplate, is_user: bool, is_narrator: bool, force: Force) -> str:
    if is_narrator:
        return t.input_sequence if t.system_same_as_user else t.system_sequence
    if is_user:
        if force == "first":
            return t.first_input_sequence or t.input_sequence
        if force == "last":
            return t.last_input_sequence or t.input_sequence
        return t.input_sequence
    if force == "first":
        return t.first_output_sequence or t.output_sequence
    if force == "last":
        return t.last_output_sequence or t.output_sequence
    return t.output_sequence


def _suffix(t: InstructTemplate, is_user: bool, is_narrator: bool) -> str:
    if is_narrator:
        return t.input_suffix if t.system_same_as_user else t.system_suffix
    return t.input_suffix if is_user else t.output_suffix


def format_chat(
    t: InstructTemplate,
    *,
    name: str,
    text: str,
    is_user: bool,
    user: str,
    char: str,
    is_narrator: bool = False,
    force: Force = None,
    force_names: bool = False,
) -> str:
    """Format one chat message (``formatInstructModeChat``).

    ``force_names`` is true in group chats or for messages with a forced avatar, where
    ``names_behavior == "force"`` adds names for everyone but the user.
    """
    include = not is_narrator and t.names_behavior == "always"
    if not is_narrator and t.names_behavior == "force" and force_names and name != user:
        include = True
    prefix = _sub(t, _prefix(t, is_user, is_narrator, force), user, char, name)
    suffix = _sub(t, _suffix(t, is_user, is_narrator), user, char, name)
    if not suffix and t.wrap:
        suffix = "\n"
    sep = "\n" if t.wrap else ""
    body = f"{name}: {text}{suffix}" if include and name else text + suffix
    return sep.join(part for part in (prefix, body) if part)


def format_system_prompt(t: InstructTemplate, system: str) -> str:
    """Wrap the system prompt in the template's older system prefix/suffix fields."""
    sep = "\n" if t.wrap else ""
    if t.system_sequence_prefix:
        prefix = re.sub(r"{{name}}", "System", t.system_sequence_prefix, flags=re.IGNORECASE)
        system = prefix + sep + system
    if t.system_sequence_suffix:
        system = system + sep + t.system_sequence_suffix
    return system


def format_examples(
    t: InstructTemplate,
    blocks: Sequence[str],
    *,
    user: str,
    char: str,
    example_separator: str,
    in_group: bool = False,
) -> list[str]:
    """Format example blocks as instruct turns (``formatInstructModeExamples``)."""
    heading = f"{example_separator}\n" if example_separator else ""
    if t.skip_examples:
        return [re.sub(r"<START>\n", heading, b, count=1, flags=re.IGNORECASE) for b in blocks]
    always = t.names_behavior == "always" or (in_group and t.names_behavior == "force")
    seqs = _example_sequences(t, user, char)
    sep = "\n" if t.wrap else ""
    out: list[str] = []
    for block in blocks:
        turns = split_turns(block, user, char)
        if not turns:
            continue
        if heading:
            out.append(heading)
        for turn in turns:
            names = always or (t.names_behavior == "force" and turn.is_user)
            prefix, suffix = seqs[0:2] if turn.is_user else seqs[2:4]
            who = user if turn.is_user else char
            content = f"{who}: {turn.content}" if names else turn.content
            out.append(sep.join(p for p in (prefix, content + suffix) if p))
    if not out:
        return [re.sub(r"<START>\n", heading, b, count=1, flags=re.IGNORECASE) for b in blocks]
    return out


def _example_sequences(t: InstructTemplate, user: str, char: str) -> tuple[str, str, str, str]:
    ip, op = t.input_sequence, t.output_sequence
    i_s, o_s = t.input_suffix, t.output_suffix
    if t.macro:
        ip, i_s = _sub(t, ip, user, char, user), _sub(t, i_s, user, char, user)
        op, o_s = _sub(t, op, user, char, char), _sub(t, o_s, user, char, char)
        i_s = i_s or ("\n" if t.wrap else "")
        o_s = o_s or ("\n" if t.wrap else "")
    return ip, i_s, op, o_s


def format_last_line(
    t: InstructTemplate,
    name: str,
    *,
    user: str,
    char: str,
    impersonate: bool = False,
    in_group: bool = False,
    prompt_bias: str = "",
) -> str:
    """The text that ends the prompt and cues the reply (``formatInstructModePrompt``)."""
    include = bool(name) and (
        t.names_behavior == "always" or (in_group and t.names_behavior == "force")
    )
    seq = t.input_sequence if impersonate else (t.last_output_sequence or t.output_sequence)
    filler = ""
    if (
        include
        and not impersonate
        and t.last_output_sequence
        and t.output_sequence
        and seq == t.last_output_sequence
        and t.output_sequence[-1:].isspace()
        and not t.last_output_sequence[-1:].isspace()
    ):
        filler = t.output_sequence[-1]
    seq = _sub(t, seq, user, char, name)
    sep = "\n" if t.wrap else ""
    text = sep + seq + sep + filler + f"{name}:" if include else sep + seq
    if not impersonate and prompt_bias:
        text += prompt_bias if include else sep + prompt_bias.lstrip()
    return (text.rstrip() if t.wrap else text) + ("" if include else sep)


def instruct_stop_strings(t: InstructTemplate, user: str, char: str) -> list[str]:
    """Stop strings implied by the template's sequences (``getInstructStoppingSequences``)."""
    parts = [
        t.stop_sequence,
        re.sub(r"{{name}}", user, t.input_sequence, flags=re.IGNORECASE),
        re.sub(r"{{name}}", char, t.output_sequence, flags=re.IGNORECASE),
        re.sub(r"{{name}}", char, t.first_output_sequence, flags=re.IGNORECASE),
        re.sub(r"{{name}}", char, t.last_output_sequence, flags=re.IGNORECASE),
        re.sub(r"{{name}}", "System", t.system_sequence, flags=re.IGNORECASE),
        re.sub(r"{{name}}", "System", t.last_system_sequence, flags=re.IGNORECASE),
    ]
    result: list[str] = []
    for line in dict.fromkeys("\n".join(parts).split("\n")):
        if line and line.strip():
            stop = "\n" + line if t.wrap else line
            result.append(replace_names(stop, user, char) if t.macro else stop)
    return result


def stopping_strings(
    instruct: InstructTemplate | None,
    context: ContextTemplate,
    *,
    user: str,
    char: str,
    impersonate: bool = False,
    continue_on_user: bool = False,
    group_names: Sequence[str] = (),
    custom: Sequence[str] = (),
) -> list[str]:
    """All stop strings for a Text Completion request (``getStoppingStrings``)."""
    result: list[str] = []
    if context.names_as_stop_strings:
        result.append(f"\n{char}:" if impersonate else f"\n{user}:")
        result.append(f"\n{user}:")
        if continue_on_user:
            result.append(f"\n{char}:")
        result.extend(f"\n{n}:" for n in group_names if n != char)
    if instruct is not None:
        result.extend(instruct_stop_strings(instruct, user, char))
    if context.use_stop_strings:
        for field in (context.chat_start, context.example_separator):
            if field:
                result.append("\n" + replace_names(field, user, char))
    result.extend(replace_names(s, user, char) for s in custom)
    if context.single_line:
        result.insert(0, "\n")
    return list(dict.fromkeys(s for s in result if s))


def clean_output(
    text: str,
    *,
    stop: Sequence[str],
    user: str,
    char: str,
    instruct: InstructTemplate | None = None,
    impersonate: bool = False,
) -> str:
    """Clean a reply as SillyTavern's ``cleanUpMessage`` does (without regex scripts).

    Cuts at full stop strings, trims a partial stop string at the end, removes leaked
    instruct sequences and a leading ``Char:`` name.
    """
    text = _cut_stops(text, stop)
    text = _TRAILING_BLANKS.sub("", text)
    name = char if impersonate else user
    if name and text.startswith(f"{name}:"):
        text = ""
    if name and f"\n{name}:" in text:
        text = text[: text.index(f"\n{name}:")]
    text = text.split("<|endoftext|>", 1)[0]
    if instruct is not None:
        text = _clean_instruct(text, instruct, impersonate)
    if f"{char}:" in text:  # most replies name nobody: no pattern to build and run
        text = re.sub(rf"(^|\n){re.escape(char)}:\s*", r"\1", text)
    return text.strip() if impersonate else text


_TRAILING_BLANKS = re.compile(r"[^\S\r\n]+$", flags=re.MULTILINE)
"""Spaces and tabs at the end of any line."""
_SENTENCE_ENDS = frozenset('.!?*")}`]$_' + "\u3002\uff01\uff1f\u201d\uff09\u3011\u2019\u300d")
"""ASCII marks, then the CJK full stop, !, ?, closing quotes and brackets."""
_EMOJI = re.compile(
    "[\U0001f000-\U0001faff\U00002600-\U000027bf\U0001f1e6-\U0001f1ff\u2b50\u2b55\u231a-\u231b]"
)


def trim_to_end_sentence(text: str) -> str:
    """Cut ``text`` after its last complete sentence, as SillyTavern's ``trimToEndSentence``.

    The last sentence end is the last of ``.!?*")}`]$`` (and their CJK forms) or an emoji; a
    mark with a space before it is dropped with the space. Text with none is only
    right-trimmed.
    """
    for index in range(len(text) - 1, -1, -1):
        char = text[index]
        emoji = bool(_EMOJI.match(char))
        if char in _SENTENCE_ENDS or emoji:
            end = index if emoji or index == 0 or not text[index - 1].isspace() else index - 1
            return text[: end + 1].rstrip()
    return text.rstrip()


def _cut_stops(text: str, stop: Sequence[str]) -> str:
    for s in stop:
        if s and s in text:
            text = text[: text.index(s)]
    for s in stop:
        for j in range(len(s), 0, -1):
            if text.endswith(s[:j]):
                text = text[:-j]
                break
    return text


def _clean_instruct(text: str, t: InstructTemplate, impersonate: bool) -> str:
    for seq in (t.stop_sequence, t.input_sequence):
        if seq and seq in text:
            text = text[: text.index(seq)]
    leaked = [t.input_sequence] if impersonate else [t.output_sequence, t.last_output_sequence]
    for seq in leaked:
        for line in seq.split("\n"):
            if line.strip():
                text = text.replace(line, "")
    return text
