// Search across every chat: a box, the messages found (newest first), a click opens the chat there.

import { api } from "./api.js";
import { debounce, h, modal, replace } from "./dom.js";
import { state } from "./state.js";

/** Open the search dialog. */
export function openSearch() {
  const box = h("input", { type: "search", placeholder: "Search all chats…", "aria-label": "Search all chats", "data-testid": "search-input" });
  const only = h("input", { type: "checkbox", "data-testid": "search-only-character" });
  const results = h("div.search-results", { "data-testid": "search-results", role: "list" });
  const run = debounce(async () => {
    const q = box.value.trim();
    if (!q) { replace(results); return; }
    const params = new URLSearchParams({ q, limit: "50" });
    if (only.checked && state.character) params.set("character_id", String(state.character.id));
    try {
      const hits = await api.get(`/api/search?${params}`);
      if (box.value.trim() !== q) return; // a newer query is on its way
      replace(results, hits.length ? hits.map(hitView) : h("div.muted", { "data-testid": "search-empty" }, "No messages found."));
    } catch (err) {
      replace(results, h("div.diagnosis.bad", err.message));
    }
  }, 200);
  box.addEventListener("input", run);
  only.addEventListener("change", run);
  const close = modal("Search", h("div.search",
    box,
    state.character ? h("label.check", only, `Only ${state.character.name}'s chats`) : null,
    results), { wide: true });

  function hitView(hit) {
    const who = hit.name || (hit.role === "user" ? "You" : hit.character_name);
    const open = () => { close(); location.hash = `#/chat/${hit.chat_id}/m/${hit.message_id}`; };
    return h("button.search-hit", { type: "button", role: "listitem", "data-testid": "search-hit", on: { click: open } },
      h("div.small.muted", `${hit.character_name} · ${hit.chat_title || `chat ${hit.chat_id}`} · #${hit.position}`),
      h("div", h("strong", `${who}: `), hit.snippet));
  }
  box.focus();
}
