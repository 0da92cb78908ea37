// The Data Bank in "This chat's settings": the documents a chat may use (every chat's, its
// character's or its members', its own), switched on and off, viewed, removed, and files
// attached. Each change is stored at once: the dialog's Save is not for these.

import { api } from "./api.js";
import { button, confirmDialog, h, modal, replace, toast, withFile } from "./dom.js";

const DATABANK_ACCEPT = ".txt,.md,.markdown,.html,.htm,.json,.csv,.pdf,.docx,.epub";
let fields = 0; // ids for the labels of each field drawn

/** The Data Bank field of chat ``chatId``'s settings. ``characters``: the characters whose
 * documents the chat uses, [{id, name}] (one for a character's chat, the members for a
 * group's). Returns the field; it loads and redraws itself. */
export function databankField(chatId, characters) {
  const names = new Map(characters.map((c) => [c.id, c.name]));
  const n = ++fields;
  const list = h("div.databank-list", { "data-testid": "databank-list" }, h("p.small.muted", "Loading…"));
  const scope = h("select", { id: `databank-scope-${n}`, "data-testid": "databank-scope" },
    h("option", { value: "chat" }, "This chat"),
    characters.map((c) => h("option", { value: `character:${c.id}` }, characters.length === 1 ? `This character (${c.name})` : `${c.name}'s chats`)),
    h("option", { value: "global" }, "Every chat"));
  const file = h("input", { type: "file", accept: DATABANK_ACCEPT, hidden: true, "data-testid": "databank-file", "aria-label": "File to attach" });
  let attaching = false; // (not disabled while busy: the button keeps the focus)
  const attach = button("Attach a file…", () => { if (!attaching) file.click(); }, { cls: "small", iconName: "upload", "data-testid": "databank-attach" });

  // What the chat may use: every chat's documents, its character's (in a group's chat,
  // every member's) and its own.
  const load = () => api.get(`/api/databank?chat_id=${chatId}`);
  const refresh = async () => {
    try {
      draw(await load());
    } catch (err) {
      replace(list, h("p.small.muted", `The documents could not be listed: ${err.message}`));
      toast(err.message, { hint: err.hint, bad: true });
    }
  };

  const draw = (documents) => {
    const groups = [["Every chat", documents.filter((d) => d.scope === "global")]];
    for (const id of new Set(documents.filter((d) => d.scope === "character").map((d) => d.character_id))) {
      groups.push([`${names.get(id) ?? `Character ${id}`}'s chats`, documents.filter((d) => d.scope === "character" && d.character_id === id)]);
    }
    groups.push(["This chat", documents.filter((d) => d.scope === "chat")]);
    const shown = groups.filter(([, docs]) => docs.length);
    replace(list, shown.length ? shown.map(([title, docs]) => h("div.databank-group", { "data-testid": "databank-group" },
      h("div.databank-scope", title),
      h("ul", { "aria-label": title }, docs.map((d) => documentRow(d, title)))))
      : h("p.small.muted", { "data-testid": "databank-empty" }, "No documents yet."));
  };

  const documentRow = (d, scopeTitle) => {
    const nameId = `databank-doc-${d.id}`;
    const use = h("input", { type: "checkbox", checked: d.enabled, "data-testid": "databank-enabled", "aria-describedby": nameId });
    const row = h(`li.databank-doc${d.enabled ? "" : ".disabled"}`, { "data-testid": "databank-doc", dataset: { id: d.id, name: d.name, scope: d.scope } },
      h("div.databank-name",
        h("span.name", { id: nameId, title: d.name }, d.name),
        h("span.small.muted", { "data-testid": "databank-size" }, `${size(d.length)} · ${d.chunks} chunk${d.chunks === 1 ? "" : "s"}`)),
      h("label.check.small", use, "Use in prompts"),
      button("View", () => view(d), { cls: "ghost small", "aria-label": `View ${d.name}`, "data-testid": "databank-view" }),
      button("Remove", () => remove(d, scopeTitle), { cls: "ghost small", "aria-label": `Remove ${d.name}`, "data-testid": "databank-remove" }));
    let sending = Promise.resolve(); // one change after the other, the last one wins
    const send = async (enabled) => {
      try {
        d.enabled = (await api.patch(`/api/databank/${d.id}`, { enabled })).enabled;
      } catch (err) {
        use.checked = d.enabled;
        toast(err.message, { hint: err.hint, bad: true });
      }
      row.classList.toggle("disabled", !d.enabled);
    };
    use.addEventListener("change", () => { const wanted = use.checked; sending = sending.then(() => send(wanted)); });
    return row;
  };

  /** Show the text the Data Bank keeps of ``d`` (what a PDF or a web page became). */
  const view = async (d) => {
    try {
      const { text } = await api.get(`/api/databank/${d.id}`);
      const body = h("textarea.databank-text", { readonly: true, rows: 18, "aria-label": `The text of ${d.name}`, "data-testid": "databank-text" });
      body.value = text;
      modal(d.name, h("div", h("p.small.muted", `${size(d.length)} · ${d.chunks} chunk${d.chunks === 1 ? "" : "s"}; chunks are cut at paragraph ends where they can be.`), body), { wide: true });
    } catch (err) {
      toast(err.message, { hint: err.hint, bad: true });
    }
  };

  const remove = async (d, scopeTitle) => {
    const where = scopeTitle === "This chat" ? "this chat" : scopeTitle === "Every chat" ? "every chat" : scopeTitle;
    const text = `It is deleted for good: ${where} will no longer draw on it. To keep it but leave it out of prompts, untick Use in prompts instead.`;
    if (!(await confirmDialog(`Remove ${d.name}?`, text, "Remove"))) return;
    try {
      await api.del(`/api/databank/${d.id}`);
      toast(`Removed ${d.name}`);
    } catch (err) {
      toast(err.message, { hint: err.hint, bad: true });
    }
    await refresh();
    if (!document.activeElement || document.activeElement === document.body) attach.focus();
  };

  file.addEventListener("change", async () => {
    const chosen = [...file.files];
    file.value = "";
    if (!chosen.length) return;
    const [kind, id] = scope.value.split(":");
    const owner = kind === "chat" ? `&chat_id=${chatId}` : kind === "character" ? `&character_id=${id}` : "";
    attaching = true;
    attach.setAttribute("aria-disabled", "true");
    attach.lastChild.textContent = "Attaching…";
    for (const f of chosen) {
      try {
        const added = await api.post(`/api/databank/upload?filename=${encodeURIComponent(f.name)}${owner}`, f);
        toast(`Attached ${added.name}`);
      } catch (err) {
        toast(withFile(f.name, err.message), { hint: err.hint, bad: true });
      }
    }
    attaching = false;
    attach.removeAttribute("aria-disabled");
    attach.lastChild.textContent = "Attach a file…";
    await refresh();
  });

  refresh();
  return h("section.databank-field", { "data-testid": "databank", "aria-labelledby": `databank-title-${n}` },
    h("h3.label", { id: `databank-title-${n}` }, "Data Bank"),
    h("div.help", "Documents the prompt draws on: on each reply, the parts that share words with the newest messages go in (how many and where: Settings › Prompt › Data Bank). Changes to documents are stored at once; Save is not needed for them."),
    list,
    h("div.row.wrap.databank-attach", h("label.small.muted", { for: scope.id }, "Attach to"), scope, attach, file),
    h("div.help", "Text files (.txt, .md, .html, .json, .csv), PDFs with a text layer, Word documents (.docx) and e-books (.epub). Save other documents as text or PDF first."));
}

/** A text's length for people: "840 characters", "12.4k characters". */
function size(characters) {
  if (characters < 1000) return `${characters} character${characters === 1 ? "" : "s"}`;
  if (characters < 1_000_000) return `${(characters / 1000).toFixed(characters < 10_000 ? 1 : 0)}k characters`;
  return `${(characters / 1_000_000).toFixed(1)}M characters`;
}
