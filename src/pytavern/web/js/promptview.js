// The prompt view of the next reply, and the token counter.

import { api } from "./api.js";
import { h, modal, toast } from "./dom.js";

const COLORS = { system: "#7c8cff", user: "#4cd18a", assistant: "#f0b35b" };

/** Count the tokens of ``text`` (null when the server cannot say). */
export async function countTokens(text) {
  try {
    return (await api.post("/api/tokenize", { text })).tokens;
  } catch {
    return null;
  }
}

/** Show what the next reply's prompt holds, part by part, with token counts. */
export async function showPromptView(chatId) {
  let view;
  try {
    view = await api.get(`/api/chats/${chatId}/prompt`);
  } catch (err) {
    toast(err.message, { hint: err.hint, bad: true });
    return;
  }
  const total = Math.max(1, view.total_tokens);
  const bar = h("div.token-bar", view.messages.map((m) => {
    const span = h("span", { title: `${m.role}: ${m.tokens} tokens` });
    span.style.width = `${(100 * m.tokens) / total}%`;
    span.style.background = COLORS[m.role] || "#8389a8";
    return span;
  }));
  const entries = view.lorebook_entries || [];
  const body = h("div", { "data-testid": "prompt-view" },
    h("div.row", h("strong", `${view.total_tokens} tokens`), h("span.muted.small", `${view.history_in_prompt} of ${view.history_total} messages fit · ${view.method}`)),
    bar,
    h("div.card-box", h("h3", "World Info entries fired"),
      entries.length ? entries.map((e) => h("div.small", { "data-testid": "fired-entry" }, `${e.comment || e.key || e.uid}`, e.tokens ? h("span.muted", ` · ${e.tokens} tokens`) : null))
        : h("p.small.muted", "No lorebook entry matched this chat.")),
    view.messages.map((m) => h("div.prompt-part", h("div.part-head", h("span.badge", m.role), h("span.spacer"), h("span.muted", `${m.tokens} tokens`)), h("pre", m.content))));
  modal("Prompt of the next reply", body, { wide: true });
}
