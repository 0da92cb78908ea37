// The World Info (lorebook) editor: SillyTavern World Info JSON, entry by entry.

import { api } from "./api.js";
import { state } from "./state.js";
import { askText, button, choiceDialog, confirmDialog, h, iconButton, replace, toast } from "./dom.js";
import { withFile } from "./dom.js";

const LOGIC = [[0, "AND ANY (one secondary key)"], [3, "AND ALL (every secondary key)"], [1, "NOT ANY (no secondary key)"], [2, "NOT ALL (not every secondary key)"]];
const TRISTATE = [["", "Book default"], ["true", "Yes"], ["false", "No"]];
const POSITIONS = [[0, "Before character"], [1, "After character"], [2, "Before author's note"], [3, "After author's note"], [4, "At depth"], [5, "Before examples"], [6, "After examples"], [7, "Outlet ({{outlet::name}})"]];

function newEntry(uid) {
  return { uid, key: [], keysecondary: [], comment: "", content: "", constant: false, selective: true, order: 100, position: 0, disable: false, probability: 100, useProbability: true, depth: 4 };
}

/** Draw the World Info panel into ``root``. */
export async function renderWorldInfoPanel(root, close, guard = () => {}) {
  const body = h("div.panel-body", { "data-testid": "worldinfo" });
  const foot = h("div.panel-foot");
  replace(root, h("div.panel-head", h("h2", "World Info"), iconButton("close", "Close", close)), body, foot);
  let books = [];
  let current = null; // {name, data}
  let dirty = false; // entry edits not saved yet
  const changed = () => { dirty = true; };
  /** Unsaved entry edits: ask to save or discard; false keeps the panel as it is. */
  const mayLeave = async () => {
    if (!dirty || !current) return true;
    const answer = await choiceDialog(`Save changes to ${current.name}?`, "Your World Info edits are not saved yet.", [["save", "Save"], ["discard", "Discard changes"]]);
    if (answer === "save") return saveBook();
    if (answer === "discard") { dirty = false; return true; }
    return false;
  };
  guard(mayLeave);
  const file = h("input", { type: "file", accept: ".json,application/json", hidden: true });
  file.addEventListener("change", () => importBook());

  async function reload(selected) {
    dirty = false;
    books = await api.get("/api/lorebooks");
    const name = selected ?? (current && current.name) ?? (books[0] && books[0].name);
    current = name && books.some((b) => b.name === name) ? (({ name: n, data }) => ({ name: n, data }))(await api.get(`/api/lorebooks/${encodeURIComponent(name)}`)) : null;
    draw();
  }

  function draw() {
    const select = h("select", { "aria-label": "Lorebook", "data-testid": "wi-select" }, books.map((b) => h("option", { value: b.name, selected: current && b.name === current.name }, `${b.name} (${b.entries})`)));
    select.addEventListener("change", async () => {
      const wanted = select.value;
      if (await mayLeave()) await reload(wanted);
      else select.value = current.name;
    });
    const book = current && books.find((b) => b.name === current.name);
    const activeBox = h("input", { type: "checkbox", checked: !!(book && book.active), "data-testid": "wi-active" });
    activeBox.addEventListener("change", async () => {
      await api.put(`/api/lorebooks/${encodeURIComponent(current.name)}/active`, { active: activeBox.checked });
      book.active = activeBox.checked;
    });
    const entries = current ? entryList(current.data) : [];
    replace(body,
      h("div.field", h("label", "Lorebook"), h("div.row", books.length ? h("div.grow", select) : h("span.muted.grow", "No lorebooks yet"),
        iconButton("plus", "New lorebook", createBook, { "data-testid": "wi-new" }),
        iconButton("upload", "Import a World Info JSON", () => file.click()),
        current ? iconButton("download", "Export as JSON", exportBook) : null,
        current ? iconButton("trash", "Delete lorebook", deleteBook) : null)),
      file,
      current ? h("div.row.wi-active", h("label.check.grow", activeBox, "Active in every chat"), button("Rename", renameBook, { cls: "ghost small" })) : null,
      current ? bindings() : null,
      current ? h("div", { "data-testid": "wi-entries" }, entries.map(([uid, entry]) => entryView(uid, entry))) : h("div.empty", h("p", "A lorebook holds entries that are added to the prompt when their keywords appear in the chat.")));
    replace(foot, current ? [button("Add entry", addEntry, { iconName: "plus", "data-testid": "wi-add" }), h("div.spacer"), button("Save", saveBook, { cls: "primary", "data-testid": "wi-save" })] : []);
  }

  /** Where else the book is used: bound to the open chat, or to its character. */
  function bindings() {
    const wrap = h("div.wi-bindings", { "data-testid": "wi-bindings" });
    if (!state.chatId || !state.character) return wrap;
    const name = current.name;
    const chatId = state.chatId;
    const character = state.character;
    const chatBox = h("input", { type: "checkbox", "data-testid": "wi-bind-chat", disabled: true });
    const charBox = h("input", { type: "checkbox", "data-testid": "wi-bind-character", disabled: true });
    const worldOf = (card) => ((card.data && typeof card.data === "object" ? card.data : card).extensions || {}).world || "";
    Promise.all([api.get(`/api/chats/${chatId}/options`), api.get(`/api/characters/${character.id}`)]).then(([options, record]) => {
      chatBox.checked = options.world_info === name;
      charBox.checked = worldOf(record.card) === name;
      chatBox.disabled = charBox.disabled = false;
    }).catch(() => {});
    chatBox.addEventListener("change", async () => {
      try {
        await api.patch(`/api/chats/${chatId}/options`, { world_info: chatBox.checked ? name : "" });
      } catch (err) { chatBox.checked = !chatBox.checked; toast(err.message, { hint: err.hint, bad: true }); }
    });
    charBox.addEventListener("change", async () => {
      try {
        const record = await api.get(`/api/characters/${character.id}`);
        const card = structuredClone(record.card);
        const data = card.data && typeof card.data === "object" ? card.data : card;
        data.extensions = { ...(data.extensions || {}) };
        if (charBox.checked) data.extensions.world = name; else delete data.extensions.world;
        state.character = await api.put(`/api/characters/${character.id}`, { card });
      } catch (err) { charBox.checked = !charBox.checked; toast(err.message, { hint: err.hint, bad: true }); }
    });
    replace(wrap, h("label.check", chatBox, "Used in this chat"), h("label.check", charBox, `Used in every chat with ${character.name}`));
    return wrap;
  }

  function entryList(data) {
    const entries = data.entries || {};
    return (Array.isArray(entries) ? entries.map((e, i) => [String(i), e]) : Object.entries(entries)).sort((a, b) => (a[1].order ?? 0) - (b[1].order ?? 0));
  }

  function entryView(uid, entry) {
    const bind = (el, key, read, event = "input") => el.addEventListener(event, () => { entry[key] = read(el); changed(); });
    const words = (el) => el.value.split(",").map((k) => k.trim()).filter(Boolean);
    const text = (key, label, placeholder, testid) => {
      const el = h("input", { type: "text", value: Array.isArray(entry[key]) ? entry[key].join(", ") : entry[key] || "", placeholder, "aria-label": label, "data-testid": testid });
      bind(el, key, Array.isArray(entry[key]) || key.startsWith("key") ? words : (x) => x.value);
      return el;
    };
    const title = text("comment", "Entry title", "Title / memo", "wi-title");
    const content = h("textarea", { rows: 3, placeholder: "What the model should know when a keyword appears", "aria-label": "Content", "data-testid": "wi-content" }, entry.content || "");
    bind(content, "content", (el) => el.value);
    const check = (key, label, { invert = false, testid = null } = {}) => {
      const el = h("input", { type: "checkbox", checked: invert ? !entry[key] : !!entry[key], "data-testid": testid });
      bind(el, key, (x) => (invert ? !x.checked : x.checked), "change");
      return h("label.check", el, label);
    };
    const choice = (key, label, options, read, testid) => {
      const current = entry[key] === null || entry[key] === undefined ? "" : String(entry[key]);
      const el = h("select", { "data-testid": testid, "aria-label": label }, options.map(([v, text]) => h("option", { value: v, selected: String(v) === current }, text)));
      bind(el, key, read, "change");
      return h("div.field", h("label", label), el);
    };
    const num = (key, label, min, max, testid = null) => {
      const el = h("input", { type: "number", min, max, value: entry[key] ?? "", placeholder: "off", "data-testid": testid });
      bind(el, key, (x) => (x.value === "" ? null : Number(x.value)), "change");
      return h("div.field", h("label", label), el);
    };
    const tristate = (v) => (v.value === "" ? null : v.value === "true");
    const enabled = check("disable", "Enabled", { invert: true });
    enabled.querySelector("input").addEventListener("change", () => box.classList.toggle("disabled", !!entry.disable));
    const more = h("details.wi-more", h("summary", "Matching, timing and recursion"),
      h("div.field", h("label", "Secondary keywords"), text("keysecondary", "Secondary keywords", "optional filter, comma separated", "wi-secondary")),
      h("div.grid-2",
        choice("selectiveLogic", "Secondary logic", LOGIC, (x) => Number(x.value), "wi-logic"),
        choice("caseSensitive", "Case-sensitive", TRISTATE, tristate, "wi-case"),
        choice("matchWholeWords", "Whole words only", TRISTATE, tristate, "wi-whole"),
        num("scanDepth", "Scan depth (messages)", 0, 1000, "wi-scan-depth"),
        h("div.field", h("label", "Inclusion group"), text("group", "Inclusion group", "none", "wi-group")),
        num("groupWeight", "Group weight", 0, 1000),
        num("sticky", "Sticky (messages)", 0, 1000, "wi-sticky"),
        num("cooldown", "Cooldown (messages)", 0, 1000, "wi-cooldown"),
        num("delay", "Delay (messages)", 0, 1000, "wi-delay")),
      h("div.row.wrap",
        check("excludeRecursion", "Not triggered by other entries", { testid: "wi-exclude-recursion" }),
        check("preventRecursion", "Does not trigger other entries", { testid: "wi-prevent-recursion" }),
        check("delayUntilRecursion", "Only triggered by other entries"),
        check("groupOverride", "Wins its group")));
    const position = choice("position", "Position", POSITIONS, (x) => Number(x.value), "wi-position");
    const outletField = h("div.field", { hidden: Number(entry.position ?? 0) !== 7 }, h("label", "Outlet name"), text("outletName", "Outlet name", "outlet name", "wi-outlet"));
    position.querySelector("select").addEventListener("change", () => { outletField.hidden = Number(entry.position) !== 7; });
    const box = h(`div.wi-entry${entry.disable ? ".disabled" : ""}`, { "data-testid": "wi-entry" },
      h("div.row", h("div.grow", title), iconButton("trash", "Delete entry", () => { delete current.data.entries[uid]; changed(); draw(); })),
      h("div.field", h("label", "Keywords"), text("key", "Keywords", "keywords, comma separated", "wi-keys")),
      h("div.field", h("label", "Content"), content),
      h("div.grid-2", position, num("depth", "Depth", 0, 1000), num("order", "Order", 0, 10000), num("probability", "Probability %", 0, 100)),
      outletField,
      h("div.row", enabled, check("constant", "Always on"), check("ignoreBudget", "Ignore budget", { testid: "wi-ignore-budget" })),
      more);
    return box;
  }

  function addEntry() {
    if (!current.data.entries || Array.isArray(current.data.entries)) current.data.entries = Object.fromEntries(entryList(current.data));
    const uids = Object.values(current.data.entries).map((e) => Number(e.uid) || 0);
    const uid = uids.length ? Math.max(...uids) + 1 : 0;
    current.data.entries[String(uid)] = newEntry(uid);
    changed();
    draw();
    body.querySelector("[data-testid=wi-entries]").lastElementChild?.scrollIntoView({ block: "nearest" });
  }

  /** Save the shown lorebook; true when it was stored. */
  async function saveBook() {
    try {
      await api.put(`/api/lorebooks/${encodeURIComponent(current.name)}`, { data: current.data });
      dirty = false;
      if (root.isConnected && !root.hidden) await reload(current.name);
      toast(`Saved ${current.name}`);
      return true;
    } catch (err) {
      toast(err.message, { hint: err.hint, bad: true });
      return false;
    }
  }

  async function createBook() {
    if (!(await mayLeave())) return;
    const name = `Lorebook ${books.length + 1}`;
    await api.put(`/api/lorebooks/${encodeURIComponent(name)}`, { data: { entries: {} } });
    await reload(name);
  }

  async function renameBook() {
    const name = await askText("Rename lorebook", current.name);
    if (!name || name === current.name) return;
    await api.put(`/api/lorebooks/${encodeURIComponent(name)}`, { data: current.data });
    await api.del(`/api/lorebooks/${encodeURIComponent(current.name)}`);
    await reload(name);
  }

  async function deleteBook() {
    if (!(await confirmDialog(`Delete ${current.name}?`, "The lorebook and all of its entries will be deleted."))) return;
    await api.del(`/api/lorebooks/${encodeURIComponent(current.name)}`);
    current = null;
    await reload(null);
  }

  function exportBook() {
    h("a", { href: `/api/lorebooks/${encodeURIComponent(current.name)}/export`, download: "" }).click();
  }

  async function importBook() {
    const f = file.files[0];
    if (!f || !(await mayLeave())) { file.value = ""; return; }
    try {
      const book = await api.post(`/api/lorebooks/import?filename=${encodeURIComponent(f.name)}`, f);
      await reload(book.name);
      toast(`Imported ${book.name}`);
    } catch (err) {
      toast(withFile(f.name, err.message), { hint: err.hint, bad: true });
    }
    file.value = "";
  }

  await reload(null);
}
