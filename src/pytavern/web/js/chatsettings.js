// This chat's own settings: the lorebook bound to it and its author's note.

import { api } from "./api.js";
import { button, choiceDialog, h, modal, toast } from "./dom.js";

/** Edit the settings of chat ``chatId`` in a dialog; Save stores them, closing asks first. */
export async function chatSettings(chatId) {
  let options;
  let books;
  try {
    [options, books] = await Promise.all([api.get(`/api/chats/${chatId}/options`), api.get("/api/lorebooks")]);
  } catch (err) {
    toast(err.message, { hint: err.hint, bad: true });
    return;
  }
  const names = books.map((b) => b.name);
  if (options.world_info && !names.includes(options.world_info)) names.push(options.world_info);
  const book = h("select", { "data-testid": "chat-lorebook" }, h("option", { value: "" }, "None"),
    names.map((n) => h("option", { value: n, selected: n === options.world_info }, n)));
  const note = h("textarea", { rows: 4, "data-testid": "chat-note", placeholder: "Empty: the author's note in Settings is used" }, options.note_prompt);
  const depth = h("input", { type: "number", min: 0, max: 10000, value: options.note_depth });
  const every = h("input", { type: "number", min: 0, max: 10000, value: options.note_interval });
  const role = h("select", {}, ["system", "user", "assistant"].map((r) => h("option", { value: r, selected: r === options.note_role }, r)));
  const read = () => ({ world_info: book.value, note_prompt: note.value, note_depth: Number(depth.value) || 0, note_interval: Number(every.value) || 0, note_role: role.value });
  let saved = JSON.stringify(read());
  const save = async () => {
    try {
      await api.patch(`/api/chats/${chatId}/options`, read());
      saved = JSON.stringify(read());
      close();
      toast("Chat settings saved");
    } catch (err) {
      toast(err.message, { hint: err.hint, bad: true });
    }
  };
  const close = modal("This chat's settings", h("div", { "data-testid": "chat-settings" },
    h("div.field", h("label", "Lorebook for this chat"), book,
      h("div.help", "Used in this chat only, besides the lorebooks active in every chat and the character's.")),
    h("div.field", h("label", "Author's note for this chat"), note),
    h("div.grid-2", h("div.field", h("label", "Insertion depth"), depth), h("div.field", h("label", "Every N messages"), every)),
    h("div.field", h("label", "Role"), role)), {
    canClose: async () => JSON.stringify(read()) === saved || (await askDiscard()),
    footer: [h("div.spacer"), button("Cancel", () => close(), { cls: "ghost" }), button("Save", save, { cls: "primary", "data-testid": "save-chat-settings" })],
  });
}

async function askDiscard() {
  return (await choiceDialog("Discard your changes?", "This chat's settings have edits that are not saved.", [["discard", "Discard changes"], ["keep", "Keep editing"]])) === "discard";
}
