"""NovelAI's token-id parameters, built the way SillyTavern builds them (nai-settings.js).

- ``stop_sequences``: each stop string encoded; for Erato (Llama 3's BPE merges a newline
  with the punctuation before it, so ``"\\nUser:"`` alone would never match after ``".\\n"``)
  every stop string starting with a newline is also sent behind common punctuation. At most
  1024 sequences.
- ``bad_words_ids``: one banned word per entry: ``{text}`` is banned verbatim, ``[1, 2]`` is
  raw token ids, anything else is banned in ten spellings (as is, capitalised, lower case,
  upper case, each with and without a leading space).
- ``logit_bias_exp``: ``{"sequence", "bias", "ensure_sequence_finish", "generate_once"}``
  per entry; a key is token ids (``123`` or ``[1, 2]``), ``{text}`` verbatim, or text that
  is biased with a leading space (as SillyTavern does).

Empty encodings are dropped (NovelAI refuses empty arrays).
"""

from __future__ import annotations

import json
from typing import Any

from pytavern.providers._nai_tokens import Encoder

ERATO_NEWLINE_PREFIXES = (".", "!", "?", "*", '"', "_", "...", '."', '?"', '!"', ".*", ")")
MAX_STOP_SEQUENCES = 1024


def stop_strings(model: str, stops: list[str]) -> list[str]:
    """The stop strings to encode for ``model`` (Erato gets punctuation variants)."""
    out = [stop for stop in stops if stop]
    if "erato" in model:
        out += [p + stop for stop in out if stop.startswith("\n") for p in ERATO_NEWLINE_PREFIXES]
    return out[:MAX_STOP_SEQUENCES]


def stop_sequences(encoder: Encoder, model: str, stops: list[str]) -> list[list[int]]:
    """``parameters.stop_sequences`` for ``stops``."""
    return _nonempty(encoder.encode(text) for text in stop_strings(model, stops))


def ban_spellings(text: str) -> list[str]:
    """The ten spellings SillyTavern bans for a word, without duplicates, in its order."""
    first_up = text[:1].upper() + text[1:]
    first_low = text[:1].lower() + text[1:]
    forms = [text, first_up, first_low, text.upper(), text.lower()]
    return list(dict.fromkeys(s for form in forms for s in (form, f" {form}")))


def bad_words_ids(encoder: Encoder, banned: list[str]) -> list[list[int]]:
    """``parameters.bad_words_ids`` for the banned words ``banned``."""
    out: list[list[int]] = []
    for entry in banned:
        text = entry.strip()
        raw = token_ids(text)
        if raw is not None:
            out.append(raw)
        elif len(text) > 1 and text.startswith("{") and text.endswith("}"):
            out.append(encoder.encode(text[1:-1]))
        elif text:
            out += [encoder.encode(form) for form in ban_spellings(text)]
    return _nonempty(out)


def logit_bias_exp(encoder: Encoder, bias: dict[str, float]) -> list[dict[str, Any]]:
    """``parameters.logit_bias_exp`` for ``bias`` (key -> bias)."""
    out: list[dict[str, Any]] = []
    for key, value in bias.items():
        text = key.strip()
        sequence = [int(text)] if text.isdigit() else token_ids(text)
        if sequence is None and len(text) > 1 and text.startswith("{") and text.endswith("}"):
            sequence = encoder.encode(text[1:-1])
        elif sequence is None and text:
            sequence = encoder.encode(f" {text}")
        if sequence:
            out.append(
                {
                    "sequence": sequence,
                    "bias": value,
                    "ensure_sequence_finish": False,
                    "generate_once": False,
                }
            )
    return out


def token_ids(text: str) -> list[int] | None:
    """A JSON list of token ids such as ``[1, 2, 3]``, else ``None``."""
    if not (text.startswith("[") and text.endswith("]")):
        return None
    try:
        value: Any = json.loads(text)
    except ValueError:
        return None
    if isinstance(value, list) and value and all(type(i) is int for i in value):
        return list(value)
    return None


def _nonempty(sequences: Any) -> list[list[int]]:
    return [list(ids) for ids in sequences if ids]
