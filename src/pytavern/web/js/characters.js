// The character gallery: import (picker or drag and drop), create, edit, delete, export.

import { api } from "./api.js";
import { avatar, button, choiceDialog, confirmDialog, debounce, h, icon, iconButton, modal, replace, toast } from "./dom.js";
import { countTokens } from "./promptview.js";
import { withFile } from "./dom.js";
import { state, emit, avatarUrl } from "./state.js";

const main = () => document.getElementById("main");

/** Show the gallery in the main area. */
export async function renderGallery() {
  state.character = null;
  state.chatId = null;
  document.getElementById("sidebar").replaceChildren(galleryHelp());
  replace(document.getElementById("topbar-title"), h("strong", "Characters"));
  state.characters = await api.get("/api/characters");
  const search = h("input.search", { type: "search", placeholder: "Search characters", "aria-label": "Search characters" });
  const grid = h("div.gallery", { "data-testid": "gallery" });
  const chips = h("div.tag-filter", { "data-testid": "tag-filter" });
  const chosen = new Set(); // lower-cased tags every shown character must carry
  const draw = () => {
    const q = search.value.trim().toLowerCase();
    const shown = state.characters.filter((c) => (!q || c.name.toLowerCase().includes(q) || c.tags.some((t) => t.toLowerCase().includes(q)))
      && [...chosen].every((tag) => c.tags.some((t) => t.toLowerCase() === tag)));
    drawCards(grid, shown);
  };
  const drawChips = (tags) => replace(chips, tags.map(({ tag, characters }) => {
    const key = tag.toLowerCase();
    const chip = h(`button.tag.chip${chosen.has(key) ? ".on" : ""}`, { type: "button", "aria-pressed": String(chosen.has(key)), "data-testid": "tag-chip", title: `${characters} character${characters === 1 ? "" : "s"}` }, tag);
    chip.addEventListener("click", () => {
      if (chosen.has(key)) chosen.delete(key); else chosen.add(key);
      chip.classList.toggle("on", chosen.has(key));
      chip.setAttribute("aria-pressed", String(chosen.has(key)));
      draw();
    });
    return chip;
  }));
  api.get("/api/tags").then(drawChips).catch((err) => toast(err.message, { hint: err.hint, bad: true }));
  search.addEventListener("input", draw);
  const picker = filePicker();
  replace(main(), h("div.page", h("div.page-inner",
    h("div.page-head", h("h1", "Characters"), h("span.badge", String(state.characters.length)), h("div.spacer"), search,
      button("Import", () => picker.click(), { iconName: "upload", "data-testid": "import" }),
      button("Create", () => editCharacter(null), { cls: "primary", iconName: "plus", "data-testid": "create" })),
    chips, grid, picker)));
  draw();
}

const CARDS_AT_ONCE = 120;
let moreCards = null; // the observer that draws the next cards of the gallery

/** ``shown`` in ``grid``, ``CARDS_AT_ONCE`` at a time: the next ones are drawn as the
 * last drawn comes near the screen (a library of thousands opens at once). */
function drawCards(grid, shown) {
  moreCards?.disconnect();
  const zone = dropZone();
  replace(grid, zone);
  let next = 0;
  const drawMore = () => {
    const part = shown.slice(next, next + CARDS_AT_ONCE).map(characterCard);
    next += part.length;
    zone.before(...part);
    if (next < shown.length && part.length) moreCards.observe(part[part.length - 1]);
  };
  moreCards = new IntersectionObserver((seen) => {
    if (!seen.some((entry) => entry.isIntersecting)) return;
    moreCards.disconnect();
    drawMore();
  }, { rootMargin: "800px" });
  drawMore();
}

function galleryHelp() {
  return h("div.panel-body", h("div.section-label", "Getting started"),
    h("p.small.muted", "Pick a character to chat with, or import a SillyTavern card (PNG, CharX or JSON): drop it anywhere on this page."),
    h("p.small.muted", "Connect a backend under Connection; the built-in model works with no setup."));
}

function characterCard(c) {
  const open = () => emit("navigate", `#/character/${c.id}`);
  const portrait = h("div.portrait", c.has_avatar ? h("img", { src: avatarUrl(c), alt: "", loading: "lazy" }) : h("span.initial", c.name.charAt(0).toUpperCase()));
  const card = h("article.char-card", { "data-testid": "character-card", dataset: { name: c.name }, on: { click: open } },
    portrait,
    h("div.info", h("h3", h("a", { href: `#/character/${c.id}`, "data-testid": "character-link", on: { click: (e) => e.stopPropagation() } }, c.name)), h("p", c.description || "No description."),
      c.tags.length ? h("div", { class: "tags" }, c.tags.slice(0, 4).map((t) => h("span.tag", t))) : null),
    h("div.actions",
      iconButton("chat", `Chat with ${c.name}`, stop(open)),
      iconButton("edit", `Edit ${c.name}`, stop(() => editCharacter(c.id))),
      iconButton("download", `Export ${c.name}`, stop(() => exportCharacter(c))),
      h("div.spacer"),
      iconButton("trash", `Delete ${c.name}`, stop(() => deleteCharacter(c)))));
  return card;
}

const stop = (fn) => (e) => { e.stopPropagation(); fn(); };

function dropZone() {
  const picker = document.querySelector("#main input[type=file]");
  return h("div.drop-zone", { "data-testid": "drop-zone", on: { click: () => picker?.click() } },
    icon("upload"), h("strong", "Import a card"), h("span.small", "Drop a PNG, CharX or JSON card here, or click to choose a file"));
}

function filePicker() {
  const input = h("input", { type: "file", accept: ".png,.json,.charx,image/png,application/json", multiple: true, hidden: true, "data-testid": "file-input" });
  input.addEventListener("change", async () => {
    await importFiles([...input.files]);
    input.value = "";
  });
  return input;
}

/** Import card files and refresh the gallery. */
export async function importFiles(files) {
  let last = null;
  for (const file of files) {
    try {
      last = await api.post(`/api/characters/import?filename=${encodeURIComponent(file.name)}`, file);
      toast(`Imported ${last.name}`);
    } catch (err) {
      toast(withFile(file.name, err.message), { hint: err.hint, bad: true, ms: 7000 });
    }
  }
  if (last) await renderGallery();
}

/** Accept dropped card files anywhere on the page. */
export function installDropImport() {
  let depth = 0;
  const hasFiles = (e) => [...(e.dataTransfer?.types || [])].includes("Files");
  window.addEventListener("dragenter", (e) => { if (hasFiles(e)) { depth++; document.body.classList.add("dragging"); } });
  window.addEventListener("dragleave", () => { depth = Math.max(0, depth - 1); if (!depth) document.body.classList.remove("dragging"); });
  window.addEventListener("dragover", (e) => { if (hasFiles(e)) e.preventDefault(); });
  window.addEventListener("drop", (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    depth = 0;
    document.body.classList.remove("dragging");
    importFiles([...e.dataTransfer.files]);
  });
}

function exportCharacter(c) {
  const link = (format, label) => h("a.btn", { href: `/api/characters/${c.id}/export?format=${format}`, download: "" }, icon("download"), label);
  modal(`Export ${c.name}`, h("div",
    h("p.muted", "A PNG card carries the character inside the image; SillyTavern and card sites read it. JSON is the card alone."),
    h("div.row", link("png", "PNG card"), link("json", "JSON"))));
}

async function deleteCharacter(c) {
  if (!(await confirmDialog(`Delete ${c.name}?`, "The character and all of its chats will be deleted. This cannot be undone."))) return;
  try {
    await api.del(`/api/characters/${c.id}`);
    toast(`Deleted ${c.name}`);
    await renderGallery();
  } catch (err) {
    toast(err.message, { hint: err.hint, bad: true });
  }
}

const FIELDS = [
  ["name", "Name", "input"],
  ["description", "Description", "textarea"],
  ["personality", "Personality", "textarea"],
  ["scenario", "Scenario", "textarea"],
  ["first_mes", "First message", "textarea"],
  ["mes_example", "Example messages", "textarea"],
  ["system_prompt", "System prompt override", "textarea"],
  ["post_history_instructions", "Post-history instructions", "textarea"],
  ["creator_notes", "Creator's notes", "textarea"],
];

/** A field's token count, kept up to date as it is typed. */
function tokenNote(control) {
  const note = h("span.token-note", { "data-testid": "field-tokens", "aria-live": "off" });
  const update = debounce(async () => {
    const text = control.value;
    const tokens = text.trim() ? await countTokens(text) : 0;
    note.textContent = tokens === null ? "" : `${tokens} token${tokens === 1 ? "" : "s"}`;
  }, 300);
  control.addEventListener("input", update);
  update();
  return note;
}

/** The card's own lorebook (``character_book``): its entries' keywords, text and switch,
 * edited here and saved inside the card. It is used in every chat with the character. */
function embeddedBookEditor(data) {
  const book = data.character_book && Array.isArray(data.character_book.entries) ? structuredClone(data.character_book) : null;
  const wrap = h("details.card-box", { "data-testid": "embedded-book" },
    h("summary", book ? `The card's own lorebook (${book.entries.length} entr${book.entries.length === 1 ? "y" : "ies"})` : "The card's own lorebook (none)"));
  if (book) {
    book.entries.forEach((entry, i) => {
      const keys = h("input", { type: "text", value: (entry.keys || []).join(", "), "data-testid": "embedded-keys" });
      keys.addEventListener("input", () => { entry.keys = keys.value.split(",").map((k) => k.trim()).filter(Boolean); });
      const content = h("textarea", { rows: 3, "data-testid": "embedded-content" }, entry.content || "");
      content.addEventListener("input", () => { entry.content = content.value; });
      const on = h("input", { type: "checkbox", checked: entry.enabled !== false });
      on.addEventListener("change", () => { entry.enabled = on.checked; });
      wrap.append(h("div.wi-entry",
        h("div.field", h("label", `Entry ${i + 1}${entry.comment ? ": " + entry.comment : ""} · keywords`), keys),
        h("div.field", h("label", "Content"), content),
        h("label.check", on, "Enabled")));
    });
  } else {
    wrap.append(h("p.small.muted", "Cards made in SillyTavern can carry a lorebook; this one does not. Bind a World Info lorebook above instead."));
  }
  return { el: wrap, store: (into) => { if (book) into.character_book = book; } };
}

/** The alternate greetings: one box each, added and removed here; swipes of the first message. */
function greetingsEditor(list) {
  const wrap = h("div.field", { "data-testid": "alt-greetings" });
  const boxes = [];
  const draw = () => {
    replace(wrap, h("label", `Alternate greetings (${boxes.length})`), boxes.map((box, i) => h("div.row.greeting",
      h("div.grow", box), iconButton("trash", `Remove greeting ${i + 2}`, () => { boxes.splice(i, 1); draw(); }))),
    button("Add a greeting", () => { boxes.push(greetingBox("")); draw(); boxes.at(-1).focus(); }, { cls: "small", iconName: "plus", "data-testid": "add-greeting" }));
  };
  const greetingBox = (text) => h("textarea", { rows: 2, "aria-label": "Alternate greeting", "data-testid": "alt-greeting" }, text);
  for (const text of list) boxes.push(greetingBox(text));
  draw();
  return { el: wrap, values: () => boxes.map((b) => b.value).filter((t) => t.trim()) };
}

/** Open the character editor (``id`` null creates a new character). Closing it with unsaved
 * edits (Escape, a click outside, Cancel) asks whether to save or discard them. */
export async function editCharacter(id) {
  const record = id ? await api.get(`/api/characters/${id}`) : null;
  const card = record ? structuredClone(record.card) : { spec: "chara_card_v2", spec_version: "2.0", data: {} };
  const data = card.data && typeof card.data === "object" ? card.data : card;
  const inputs = {};
  const greetings = greetingsEditor(Array.isArray(data.alternate_greetings) ? data.alternate_greetings : []);
  const fields = FIELDS.map(([key, label, kind]) => {
    const el = kind === "input" ? h("input", { type: "text", value: data[key] || "", name: key }) : h("textarea", { name: key, rows: key === "description" ? 5 : 3 }, data[key] || "");
    inputs[key] = el;
    const field = h("div.field", h("label", label), el);
    if (kind !== "input") field.querySelector("label").after(tokenNote(el));
    return field;
  });
  fields.splice(FIELDS.findIndex(([key]) => key === "first_mes") + 1, 0, greetings.el);
  const tags = h("input", { type: "text", name: "tags", value: (data.tags || []).join(", "), placeholder: "fantasy, tavern" });
  const avatarInput = h("input", { type: "file", accept: "image/png,image/jpeg,image/webp,image/gif", name: "avatar" });
  const world = h("select", { name: "world", "data-testid": "character-lorebook" }, h("option", { value: "" }, "None"));
  await fillLorebooks(world, data.extensions && data.extensions.world);
  const collect = () => {
    const out = structuredClone(card);
    const into = out.data && typeof out.data === "object" ? out.data : out;
    for (const [key] of FIELDS) into[key] = inputs[key].value;
    into.alternate_greetings = greetings.values();
    embedded.store(into);
    into.tags = tags.value.split(",").map((t) => t.trim()).filter(Boolean);
    into.extensions = { ...(into.extensions || {}) };
    if (world.value) into.extensions.world = world.value; else delete into.extensions.world;
    return out;
  };
  const snapshot = () => JSON.stringify(collect());
  let saved = null;
  const save = async () => {
    const out = collect();
    const into = out.data && typeof out.data === "object" ? out.data : out;
    if (!into.name.trim()) { toast("A character needs a name", { bad: true }); return false; }
    try {
      const stored = id ? await api.put(`/api/characters/${id}`, { card: out }) : await api.post("/api/characters", { card: out });
      if (avatarInput.files[0]) await api.put(`/api/characters/${stored.id}/avatar`, avatarInput.files[0]);
      saved = snapshot();
      close();
      toast(`Saved ${stored.name}`);
      if (state.character && state.character.id === stored.id) emit("navigate", location.hash);
      else await renderGallery();
      return true;
    } catch (err) {
      toast(err.message, { hint: err.hint, bad: true });
      return false;
    }
  };
  const canClose = async () => {
    if (snapshot() === saved && !avatarInput.files[0]) return true;
    const answer = await choiceDialog("Save your changes?", "This character has edits that are not saved yet.", [["save", "Save"], ["discard", "Discard changes"]]);
    if (answer === "save") { await save(); return false; } // save() closes the editor itself
    return answer === "discard";
  };
  const embedded = embeddedBookEditor(data);
  const close = modal(record ? `Edit ${record.name}` : "New character", h("form", { on: { submit: (e) => { e.preventDefault(); save(); } } },
    h("div.row", avatar(record ? avatarUrl(record) : null, data.name || "?"), h("div.field.grow", h("label", "Avatar image"), avatarInput)),
    fields, h("div.field", h("label", "Tags (comma separated)"), tags),
    h("div.field", h("label", "Lorebook used in this character's chats"), world,
    ), embedded.el), {
    wide: true,
    canClose,
    footer: [h("div.spacer"), button("Cancel", async () => { if (await canClose()) close(); }, { cls: "ghost" }), button("Save", save, { cls: "primary", "data-testid": "save-character" })],
  });
  saved = snapshot();
}

async function fillLorebooks(select, chosen) {
  try {
    const books = await api.get("/api/lorebooks");
    const names = books.map((b) => b.name);
    if (chosen && !names.includes(chosen)) names.push(chosen);
    select.append(...names.map((n) => h("option", { value: n, selected: n === chosen }, n)));
  } catch {
    /* the list stays at None; saving keeps the card's link */
  }
}
