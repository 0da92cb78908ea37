// The World Info (lorebook) editor: SillyTavern World Info JSON, entry by entry.

import { api } from "./api.js";
import { askText, button, confirmDialog, h, iconButton, replace, toast } from "./dom.js";

const POSITIONS = [[0, "Before character"], [1, "After character"], [2, "Before author's note"], [3, "After author's note"], [4, "At depth"], [5, "Before examples"], [6, "After examples"], [7, "Outlet ({{outlet::name}})"]];

function newEntry(uid) {
  return { uid, key: [], keysecondary: [], comment: "", content: "", constant: false, selective: true, order: 100, position: 0, disable: false, probability: 100, useProbability: true, depth: 4 };
}

/** Draw the World Info panel into ``root``. */
export async function renderWorldInfoPanel(root, close) {
  const body = h("div.panel-body", { "data-testid": "worldinfo" });
  const foot = h("div.panel-foot");
  replace(root, h("div.panel-head", h("h2", "World Info"), iconButton("close", "Close", close)), body, foot);
  let books = [];
  let current = null; // {name, data}
  const file = h("input", { type: "file", accept: ".json,application/json", hidden: true });
  file.addEventListener("change", () => importBook());

  async function reload(selected) {
    books = await api.get("/api/lorebooks");
    const name = selected ?? (current && current.name) ?? (books[0] && books[0].name);
    current = name && books.some((b) => b.name === name) ? (({ name: n, data }) => ({ name: n, data }))(await api.get(`/api/lorebooks/${encodeURIComponent(name)}`)) : null;
    draw();
  }

  function draw() {
    const select = h("select", { "aria-label": "Lorebook", "data-testid": "wi-select" }, books.map((b) => h("option", { value: b.name, selected: current && b.name === current.name }, `${b.name} (${b.entries})`)));
    select.addEventListener("change", () => reload(select.value));
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
      current ? h("div", { "data-testid": "wi-entries" }, entries.map(([uid, entry]) => entryView(uid, entry))) : h("div.empty", h("p", "A lorebook holds entries that are added to the prompt when their keywords appear in the chat.")));
    replace(foot, current ? [button("Add entry", addEntry, { iconName: "plus", "data-testid": "wi-add" }), h("div.spacer"), button("Save", saveBook, { cls: "primary", "data-testid": "wi-save" })] : []);
  }

  function entryList(data) {
    const entries = data.entries || {};
    return (Array.isArray(entries) ? entries.map((e, i) => [String(i), e]) : Object.entries(entries)).sort((a, b) => (a[1].order ?? 0) - (b[1].order ?? 0));
  }

  function entryView(uid, entry) {
    const bind = (el, key, read) => el.addEventListener("input", () => { entry[key] = read(el); });
    const title = h("input", { type: "text", value: entry.comment || "", placeholder: "Title / memo", "aria-label": "Entry title" });
    bind(title, "comment", (el) => el.value);
    const keys = h("input", { type: "text", value: (entry.key || []).join(", "), placeholder: "keywords, comma separated", "aria-label": "Keywords", "data-testid": "wi-keys" });
    bind(keys, "key", (el) => el.value.split(",").map((k) => k.trim()).filter(Boolean));
    const content = h("textarea", { rows: 3, placeholder: "What the model should know when a keyword appears", "aria-label": "Content", "data-testid": "wi-content" }, entry.content || "");
    bind(content, "content", (el) => el.value);
    const constant = h("input", { type: "checkbox", checked: !!entry.constant });
    constant.addEventListener("change", () => { entry.constant = constant.checked; });
    const enabled = h("input", { type: "checkbox", checked: !entry.disable });
    enabled.addEventListener("change", () => { entry.disable = !enabled.checked; box.classList.toggle("disabled", entry.disable); });
    const position = h("select", { "aria-label": "Position" }, POSITIONS.map(([v, label]) => h("option", { value: v, selected: Number(entry.position ?? 0) === v }, label)));
    const outlet = h("input", { type: "text", value: entry.outletName || "", placeholder: "outlet name", "aria-label": "Outlet name", "data-testid": "wi-outlet" });
    bind(outlet, "outletName", (el) => el.value.trim());
    const outletField = h("div.field", { hidden: Number(entry.position ?? 0) !== 7 }, h("label", "Outlet name"), outlet);
    position.addEventListener("change", () => { entry.position = Number(position.value); outletField.hidden = entry.position !== 7; });
    const ignoreBudget = h("input", { type: "checkbox", checked: !!entry.ignoreBudget, "data-testid": "wi-ignore-budget" });
    ignoreBudget.addEventListener("change", () => { entry.ignoreBudget = ignoreBudget.checked; });
    const num = (key, label, min, max) => {
      const el = h("input", { type: "number", min, max, value: entry[key] ?? "", "aria-label": label });
      el.addEventListener("change", () => { entry[key] = Number(el.value); });
      return h("div.field", h("label", label), el);
    };
    const box = h(`div.wi-entry${entry.disable ? ".disabled" : ""}`, { "data-testid": "wi-entry" },
      h("div.row", h("div.grow", title), iconButton("trash", "Delete entry", () => { delete current.data.entries[uid]; draw(); })),
      h("div.field", h("label", "Keywords"), keys),
      h("div.field", h("label", "Content"), content),
      h("div.grid-2", h("div.field", h("label", "Position"), position), num("depth", "Depth", 0, 1000), num("order", "Order", 0, 10000), num("probability", "Probability %", 0, 100)),
      outletField,
      h("div.row", h("label.check", enabled, "Enabled"), h("label.check", constant, "Always on"), h("label.check", ignoreBudget, "Ignore budget")));
    return box;
  }

  function addEntry() {
    if (!current.data.entries || Array.isArray(current.data.entries)) current.data.entries = Object.fromEntries(entryList(current.data));
    const uids = Object.values(current.data.entries).map((e) => Number(e.uid) || 0);
    const uid = uids.length ? Math.max(...uids) + 1 : 0;
    current.data.entries[String(uid)] = newEntry(uid);
    draw();
    body.querySelector("[data-testid=wi-entries]").lastElementChild?.scrollIntoView({ block: "nearest" });
  }

  async function saveBook() {
    try {
      await api.put(`/api/lorebooks/${encodeURIComponent(current.name)}`, { data: current.data });
      await reload(current.name);
      toast(`Saved ${current.name}`);
    } catch (err) {
      toast(err.message, { hint: err.hint, bad: true });
    }
  }

  async function createBook() {
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
    if (!f) return;
    try {
      const book = await api.post(`/api/lorebooks/import?filename=${encodeURIComponent(f.name)}`, f);
      await reload(book.name);
      toast(`Imported ${book.name}`);
    } catch (err) {
      toast(`${f.name}: ${err.message}`, { hint: err.hint, bad: true });
    }
    file.value = "";
  }

  await reload(null);
}
