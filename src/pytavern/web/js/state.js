// Shared UI state and a tiny event bus.

export const state = {
  characters: [],
  character: null, // the current character (detail)
  chatId: null,
  chats: [],
  messages: [],
  connections: [],
  apiTypes: [],
  connection: null, // the default connection (public record)
  connected: null, // null unknown, true ok, false failed
  generation: null, // the running generation handle
};

const listeners = new Map();

/** Subscribe to a named event. */
export function on(name, fn) {
  if (!listeners.has(name)) listeners.set(name, new Set());
  listeners.get(name).add(fn);
}

/** Stop calling ``fn`` on ``name``. */
export function off(name, fn) {
  listeners.get(name)?.delete(fn);
}

/** Emit a named event. */
export function emit(name, detail) {
  for (const fn of listeners.get(name) || []) fn(detail);
}

/** The URL of a character's avatar (cache-busted by its update time). */
export function avatarUrl(character) {
  if (!character || !character.has_avatar) return null;
  return `/api/characters/${character.id}/avatar?v=${encodeURIComponent(character.updated_at || "")}`;
}
