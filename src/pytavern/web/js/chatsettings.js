// This chat's own settings: the lorebook bound to it, its author's note and its summary
// (SillyTavern's Summarize: made by the LLM with "Summarize now" or, when Settings › Summary
// says so, every N messages after a reply — ``summarizeIfDue`` — or written by hand), and
// the Data Bank's documents it may use (``databank.js``: kept at once, not with Save).

import { api, streamGeneration } from "./api.js";
import { databankField } from "./databank.js";
import { button, choiceDialog, h, modal, toast } from "./dom.js";
import { emit, off, on, state } from "./state.js";

const summarizing = new Set(); // the chats whose summary is being made (one at a time each)

/** Edit the settings of chat ``chatId`` in a dialog; Save stores them, closing asks first.
 * ``characters`` ([{id, name}]): a group's members (else the chat's character). */
export async function chatSettings(chatId, { characters = null } = {}) {
  let options;
  let books;
  let chat;
  try {
    [options, books, chat] = await Promise.all([api.get(`/api/chats/${chatId}/options`), api.get("/api/lorebooks"), api.get(`/api/chats/${chatId}?limit=1`)]);
    if (!characters) {
      const character = state.character?.id === chat.character_id ? state.character
        : await api.get(`/api/characters/${chat.character_id}`).catch(() => ({ id: chat.character_id, name: "its character" }));
      characters = [{ id: character.id, name: character.name }];
    }
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
  const saveBtn = button("Save", () => save(), { cls: "primary", "data-testid": "save-chat-settings" });
  const summary = summaryEditor(chatId, options.summary || "", { at: options.summary_at || 0, count: chat.message_count }, {
    onSaved: (text) => { saved = { ...saved, summary: text }; }, // stored already: nothing to ask about
    onBusy: (busy) => { saveBtn.disabled = busy; },
  });
  const read = () => ({ world_info: book.value, note_prompt: note.value, note_depth: Number(depth.value) || 0, note_interval: Number(every.value) || 0, note_role: role.value, summary: summary.value() });
  let saved = read();
  const same = () => JSON.stringify(read()) === JSON.stringify(saved);
  const save = async () => {
    const changes = read();
    if (changes.summary === saved.summary) delete changes.summary; // unchanged: it keeps its age
    try {
      await api.patch(`/api/chats/${chatId}/options`, changes);
      saved = read();
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
    h("div.field", h("label", "Role"), role),
    summary.field,
    databankField(chatId, characters)), {
    canClose: async () => same() || (await askDiscard()),
    onClose: () => summary.dispose(),
    footer: [h("div.spacer"), button("Cancel", () => close(), { cls: "ghost" }), saveBtn],
  });
}

/** The dialog's Summary field: the text, how much of the chat it covers (``at`` of
 * ``count`` messages), and "Summarize now" streaming a new one into it. Returns {field,
 * value, dispose}; ``value()`` is the text to save (while a summary is being made: the one
 * there was). ``onSaved(text)``: a new summary was stored; ``onBusy(busy)``. */
function summaryEditor(chatId, text, { at, count }, { onSaved, onBusy }) {
  const box = h("textarea", { rows: 6, "data-testid": "chat-summary", placeholder: "No summary yet" }, text);
  const age = h("div.help", { "data-testid": "summary-age" });
  const paintAge = () => {
    age.textContent = !text ? "" : at >= count ? `It covers all ${count} messages of the chat.`
      : `It covers the first ${at} of the chat's ${count} messages.`;
  };
  paintAge();
  let before = null; // the text there was, while a summary is being made here
  const stored = (made) => { box.value = text = made; at = count; paintAge(); onSaved(made); };
  let running = null; // the summary being made here: its handle (Stop), once it started
  const setBusy = (busy) => {
    box.readOnly = busy;
    run.lastChild.textContent = busy ? "Stop summarizing" : "Summarize now";
    run.setAttribute("aria-label", busy ? "Stop summarizing" : "Summarize now");
    onBusy(busy);
  };
  const summarize = async () => {
    if (before !== null) { running?.stop(); return; } // the button stops the one running
    if (!reserve(chatId)) return;
    before = box.value;
    setBusy(true);
    const result = await makeSummary(chatId, (soFar) => { box.value = soFar; box.scrollTop = box.scrollHeight; }, (handle) => { running = handle; });
    running = null;
    const previous = before;
    before = null;
    setBusy(false);
    if (result.saved) {
      stored(result.text);
      toast("Summary saved");
    } else {
      box.value = previous;
      toast(result.error.message, { hint: result.error.hint, bad: true });
    }
  };
  const run = button("Summarize now", summarize, { cls: "small", iconName: "refresh", "data-testid": "summarize-now" });
  // A summary made in the background meanwhile shows here, unless the text has been edited.
  const onMade = (made) => { if (made.chatId === chatId && before === null && box.value === text) stored(made.text); };
  on("chat-summary", onMade);
  return {
    field: h("div.field.summary-field", h("label", "Summary of this chat"), box, age,
      h("div.help", "Sent with every reply, where Settings › Summary puts it. Made by the model with Summarize now (or every N messages, if Settings › Summary says so) or written by hand; edits are saved with Save."),
      h("div.row", run)),
    value: () => before ?? box.value,
    dispose: () => off("chat-summary", onMade),
  };
}

/** Keep chat ``chatId``'s summary for one run; false when one runs (said unless ``quiet``). */
function reserve(chatId, quiet = false) {
  if (summarizing.has(chatId)) {
    if (!quiet) toast("A summary of this chat is being made already", { hint: "Wait for it to finish" });
    return false;
  }
  summarizing.add(chatId);
  return true;
}

/** Make chat ``chatId``'s summary (reserved with ``reserve``); ``onText(soFar)`` sees it
 * arrive. Resolves {saved: true, text} when it was stored, else {saved: false, error}. */
async function makeSummary(chatId, onText, onHandle = () => {}) {
  let text = "";
  let failed = null;
  let finished = null;
  try {
    const handle = await streamGeneration(chatId, { mode: "summarize" }, (kind, data) => {
      if (kind === "text") { text += data.text; onText(text); }
      else if (kind === "error") failed = data;
      else if (kind === "finished") finished = data;
    });
    onHandle(handle);
    await handle.done;
  } catch (err) {
    failed = { message: err.message, hint: err.hint };
  } finally {
    summarizing.delete(chatId);
  }
  if (finished && finished.summary_saved && !failed) {
    const made = finished.reply ?? text;
    emit("chat-summary", { chatId, text: made });
    return { saved: true, text: made };
  }
  return { saved: false, error: failed || { message: "the summary was cut short or came back empty", hint: "The summary there was is kept; try Summarize now again" } };
}

/** After a reply in chat ``chatId`` whose ``finished`` event says ``summary_due`` (the
 * server applies Settings › Summary's "every"): make the summary in the background (notices
 * only). */
export async function summarizeIfDue(chatId, finished) {
  if (!finished || !finished.summary_due || !reserve(chatId, true)) return;
  toast("Updating the chat's summary…");
  const result = await makeSummary(chatId, () => {});
  if (result.saved) toast("Summary updated");
  else toast(`The chat's summary was not updated: ${result.error.message}`, { hint: result.error.hint, bad: true });
}

async function askDiscard() {
  return (await choiceDialog("Discard your changes?", "This chat's settings have edits that are not saved.", [["discard", "Discard changes"], ["keep", "Keep editing"]])) === "discard";
}
