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

// The prompt's parts in words (the engine names them as SillyTavern's prompt manager does).
const PART_LABELS = {
  main: "System prompt", nsfw: "Auxiliary prompt", jailbreak: "Post-history instructions",
  enhanceDefinitions: "Enhance definitions", worldInfoBefore: "World Info (before the character)",
  worldInfoAfter: "World Info (after the character)", charDescription: "Character description",
  charPersonality: "Character personality", scenario: "Scenario", personaDescription: "Your persona",
  dialogueExamples: "Example messages", examples: "Example messages", chatHistory: "Chat history",
  storyString: "Character card and scenario (story string)", anchors: "World Info and author's note",
  authorNote: "Author's note",
};

/** A part of the prompt in words; unknown names are spaced out ("myPart" -> "My part"). */
export function partLabel(name) {
  if (PART_LABELS[name]) return PART_LABELS[name];
  const spaced = name.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();
  return spaced.charAt(0).toUpperCase() + spaced.slice(1);
}

/** The prompt as it was sent: the text, or each chat message under its role. */
function promptText(prompt) {
  if (!prompt) return null;
  const body = prompt.text !== undefined
    ? h("pre.prompt-text", prompt.text)
    : h("div", (prompt.messages || []).map((m) => h("div.prompt-message", h("div.small.muted", m.role), h("pre.prompt-text", m.content))));
  return h("details.card-box", { "data-testid": "prompt-text" }, h("summary", "The prompt as sent"), body);
}

const PART_COLORS = ["#7c8cff", "#4cd18a", "#f0b35b", "#ff6b7a", "#5fc8e8", "#c38bff", "#e8d35f", "#8389a8"];

/** Show where the tokens of the last reply's prompt went, and which lorebook entries fired. */
export async function showPromptView(chatId, hiddenCount = 0) {
  let view;
  try {
    view = await api.get(`/api/chats/${chatId}/prompt`);
  } catch (err) {
    toast(err.message, { hint: err.hint, bad: true });
    return;
  }
  if (!view.available) {
    modal("Prompt of the last reply", h("div.empty", { "data-testid": "prompt-view" }, h("h2", "No reply yet"),
      h("p", "Once a reply has been generated in this chat, its prompt breakdown shows here.")));
    return;
  }
  const parts = view.parts.filter((p) => p.tokens > 0);
  const total = Math.max(1, view.total_tokens);
  const color = (i) => PART_COLORS[i % PART_COLORS.length];
  const bar = h("div.token-bar", parts.map((p, i) => {
    const span = h("span", { title: `${partLabel(p.name)}: ${p.tokens} tokens` });
    span.style.width = `${(100 * p.tokens) / total}%`;
    span.style.background = color(i);
    return span;
  }));
  const legend = h("div.legend", parts.map((p, i) => {
    const dot = h("span.swatch");
    dot.style.background = color(i);
    return h("div.legend-row", dot, h("span.grow", partLabel(p.name)), h("span.muted", `${p.tokens}`));
  }));
  const lore = view.lore.length ? view.lore.map((e) => h("div.lore-entry", { "data-testid": "fired-entry" },
    h("div.row", h("strong.grow", e.comment || (e.keys || []).join(", ") || `entry ${e.uid}`), h("span.badge", e.book)),
    h("div.small.muted", `${e.reason}${e.keys && e.keys.length ? " · keys: " + e.keys.join(", ") : ""}`),
    h("div.small", e.content))) : h("p.small.muted", "No lorebook entry fired.");
  const cache = view.cache && view.cache.breakpoints ? h("div.card-box", { "data-testid": "cache-breakpoints" },
    h("h3", `Prompt cache breakpoints (${view.cache.connection}, ${view.cache.ttl})`),
    view.cache.breakpoints.length ? view.cache.breakpoints.map((b) => h("div.small", { "data-testid": "cache-breakpoint" },
      h("strong", b.where === "system" ? "after the system block" : `after message ${b.message} of ${b.message === undefined ? "?" : b.of} (${b.role})`),
      h("span.muted", ` · ${b.preview}`))) : h("p.small.muted", "The prompt is too short for a breakpoint yet.")) : null;
  const body = h("div", { "data-testid": "prompt-view" },
    h("div.row", h("strong", `${view.total_tokens} tokens`), h("span.muted.small", `of a ${view.budget}-token budget · ${view.history.included}/${view.history.total} messages · ${view.examples.included}/${view.examples.total} examples`)),
    view.tokenizer ? h("p.small.muted", { "data-testid": "prompt-tokenizer" }, `Counted by: ${view.tokenizer}`) : null,
    bar, legend,
    h("div.card-box", h("h3", `World Info entries fired (${view.lore.length})`), lore),
    cache,
    view.cut.length ? h("p.small.muted", `Left out to fit: ${view.cut.join(", ")}`) : null,
    hiddenCount ? h("p.small.muted", { "data-testid": "prompt-hidden" }, hiddenCount === 1 ? "1 message is hidden from the prompt (it stays in the chat)." : `${hiddenCount} messages are hidden from the prompt (they stay in the chat).`) : null,
    promptText(view.prompt));
  modal("Prompt of the last reply", body, { wide: true });
}
