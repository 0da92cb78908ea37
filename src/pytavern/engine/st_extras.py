"""Regex scripts and quick-reply sets in a SillyTavern user folder, in and out.

SillyTavern keeps the global regex scripts in ``settings.json``
(``extension_settings.regex``) and each quick-reply set as ``QuickReplies/<name>.json``.
Importing again imports nothing twice: scripts are recognised by their id, sets by name.
"""

from __future__ import annotations

from typing import Any

from pytavern.engine import quick_replies, regex_scripts
from pytavern.formats.quick_replies import QuickReplySet, read_set, write_set
from pytavern.formats.regex import scripts_from_value
from pytavern.store import Store

QUICK_REPLY_FOLDER = "QuickReplies"


def settings_regex(settings: dict[str, Any]) -> list[dict[str, Any]]:
    """The global regex scripts of a SillyTavern ``settings.json`` (checked)."""
    extension = settings.get("extension_settings")
    found = extension.get("regex") if isinstance(extension, dict) else None
    if not isinstance(found, list):
        return []
    return [script.to_dict() for script in scripts_from_value(found)]


def import_regex(store: Store, settings: dict[str, Any], *, dry_run: bool) -> tuple[int, int]:
    """Add the global scripts ``settings`` holds that are not kept yet: (new, present)."""
    scripts = settings_regex(settings)
    kept = regex_scripts.load_settings(store)
    known = {script.get("id") for script in kept.scripts}
    new = [script for script in scripts if script.get("id") not in known]
    if new and not dry_run:
        kept.scripts = [*kept.scripts, *new]
        regex_scripts.save_settings(store, kept)
    return len(new), len(scripts) - len(new)


def import_quick_replies(store: Store, data: bytes, *, dry_run: bool) -> bool:
    """Add a quick-reply set file unless a set of its name is kept; whether it was new."""
    reply_set = read_set(data)
    kept = quick_replies.load_settings(store)
    if any(raw.get("name") == reply_set.name for raw in kept.sets):
        return False
    if not dry_run:
        kept.sets = [*kept.sets, reply_set.to_dict()]
        kept.active = [*kept.active, reply_set.name]
        quick_replies.save_settings(store, kept)
    return True


def extension_settings(store: Store) -> dict[str, Any]:
    """What ``settings.json``'s ``extension_settings`` holds of ours (the global scripts)."""
    return {"regex": regex_scripts.load_settings(store).scripts}


def quick_reply_files(store: Store) -> list[tuple[str, bytes]]:
    """Each kept quick-reply set as (its name, its SillyTavern file)."""
    sets: list[QuickReplySet] = quick_replies.stored_sets(quick_replies.load_settings(store))
    return [(reply_set.name, write_set(reply_set)) for reply_set in sets]
