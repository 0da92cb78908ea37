// Generation settings: samplers the current backend takes, context and reply length,
// instruct/context templates, system prompt, author's note, chat summaries, persona.

import { api } from "./api.js";
import { dataTab } from "./backups.js";
import { button, debounce, h, iconButton, replace, toast } from "./dom.js";
import { state, emit } from "./state.js";
import { templatePickers } from "./templates.js";

// name: [label, min, max, step]; list-valued samplers are edited as text.
const SAMPLERS = {
  temperature: ["Temperature", 0, 2, 0.01],
  top_p: ["Top P", 0, 1, 0.01],
  top_k: ["Top K", 0, 200, 1],
  top_a: ["Top A", 0, 1, 0.01],
  min_p: ["Min P", 0, 1, 0.01],
  typical_p: ["Typical P", 0, 1, 0.01],
  tfs: ["Tail-free sampling", 0, 1, 0.01],
  repetition_penalty: ["Repetition penalty", 1, 2, 0.01],
  repetition_penalty_range: ["Rep. pen. range", 0, 8192, 1],
  repetition_penalty_slope: ["Rep. pen. slope", 0, 10, 0.1],
  frequency_penalty: ["Frequency penalty", -2, 2, 0.01],
  presence_penalty: ["Presence penalty", -2, 2, 0.01],
  dynatemp_low: ["Dynamic temp. min", 0, 2, 0.01],
  dynatemp_high: ["Dynamic temp. max", 0, 2, 0.01],
  dynatemp_exponent: ["Dynamic temp. exponent", 0.1, 10, 0.1],
  mirostat_mode: ["Mirostat mode", 0, 2, 1],
  mirostat_tau: ["Mirostat tau", 0, 20, 0.01],
  mirostat_eta: ["Mirostat eta", 0, 1, 0.01],
  dry_multiplier: ["DRY multiplier", 0, 5, 0.01],
  dry_base: ["DRY base", 1, 4, 0.01],
  dry_allowed_length: ["DRY allowed length", 1, 20, 1],
  dry_penalty_last_n: ["DRY penalty range", 0, 8192, 1],
  xtc_threshold: ["XTC threshold", 0, 0.5, 0.01],
  xtc_probability: ["XTC probability", 0, 1, 0.01],
  smoothing_factor: ["Smoothing factor", 0, 10, 0.01],
  smoothing_curve: ["Smoothing curve", 1, 10, 0.01],
  seed: ["Seed (-1 random)", -1, 2147483647, 1],
};
// Where an unset slider rests: the value backends use when none is sent (else the minimum).
const NEUTRAL = { temperature: 1, top_p: 1, typical_p: 1, tfs: 1, repetition_penalty: 1, repetition_penalty_slope: 1, dynatemp_low: 1, dynatemp_high: 1, dynatemp_exponent: 1, mirostat_tau: 5, mirostat_eta: 0.1, dry_base: 1.75, dry_allowed_length: 2, smoothing_curve: 1, seed: -1 };
const LIST_SAMPLERS = { stop: "Stop strings", banned_tokens: "Banned tokens", dry_sequence_breakers: "DRY sequence breakers", sampler_order: "Sampler order" };

let settings = {};
let savedLabel = null;

const save = debounce(async (patch) => {
  try {
    settings = await api.patch("/api/settings", patch);
    if (savedLabel) { savedLabel.textContent = "Saved"; setTimeout(() => { if (savedLabel) savedLabel.textContent = ""; }, 1500); }
  } catch (err) {
    toast(err.message, { hint: err.hint, bad: true });
  }
}, 300);
let pending = {};
function merge(into, patch) {
  for (const [k, v] of Object.entries(patch)) {
    if (v && typeof v === "object" && !Array.isArray(v) && into[k] && typeof into[k] === "object") merge(into[k], v);
    else into[k] = v;
  }
  return into;
}
function queue(key, value) {
  merge(pending, { [key]: value });
  const patch = pending;
  save(patch);
  setTimeout(() => { if (pending === patch) pending = {}; }, 400);
}

/** Draw the settings panel into ``root``. */
export async function renderSettingsPanel(root, close) {
  savedLabel = h("span.small.muted", { "data-testid": "settings-saved" });
  const body = h("div.panel-body");
  const tabs = [["samplers", "Samplers"], ["prompt", "Prompt"], ["persona", "Persona"], ["data", "Your data"]];
  const tabBar = h("div.tabs", { role: "tablist" });
  const show = async (name) => {
    for (const b of tabBar.children) b.classList.toggle("active", b.dataset.tab === name);
    replace(body, h("p.muted", "Loading…"));
    try {
      replace(body, await TABS[name]());
    } catch (err) {
      replace(body, h("p.muted", err.message));
    }
  };
  replace(tabBar, tabs.map(([n, label]) => h("button", { type: "button", role: "tab", dataset: { tab: n }, on: { click: () => show(n) } }, label)));
  replace(root, h("div.panel-head", h("h2", "Generation settings"), savedLabel, iconButton("close", "Close", close)), tabBar, body);
  settings = await api.get("/api/settings");
  await show("samplers");
}

const TABS = { samplers: samplersTab, prompt: promptTab, persona: personaTab, data: dataTab };

async function samplersTab() {
  const conn = state.connection;
  let supported = [];
  if (conn) {
    try { supported = (await api.get(`/api/connections/${encodeURIComponent(conn.name)}/samplers`)).samplers; } catch { supported = []; }
  }
  const values = { ...(settings.sampling || {}) };
  const setSampler = (key, value) => {
    const unset = value === null || value === "" || Number.isNaN(value);
    values[key] = unset ? null : value;
    queue("sampling", { [key]: values[key] });
  };
  const numeric = Object.keys(SAMPLERS).filter((s) => supported.includes(s)); // Temperature first
  const lists = Object.keys(LIST_SAMPLERS).filter((s) => supported.includes(s));
  return h("div", { "data-testid": "samplers" },
    h("div.card-box", h("h3", "Context"),
      h("div.grid-2",
        numberField("Context size (tokens)", settings.context_size, 256, 1048576, 256, (v) => queue("context_size", v ?? 4096), "context-size"),
        numberField("Reply length (tokens)", values.max_tokens, 16, 32768, 16, (v) => queue("sampling", { max_tokens: v }), "max-tokens")),
      checkField("Trim incomplete sentences from replies", settings.trim_sentences, (v) => queue("trim_sentences", v), "trim-sentences"),
      checkField("Send SillyTavern's default samplers for the ones left unset", settings.send_sampler_defaults ?? true, (v) => queue("send_sampler_defaults", v), "send-sampler-defaults"),
      await samplerPresetPicker()),
    h("div.card-box", h("h3", conn ? `Samplers for ${conn.name}` : "Samplers"),
      numeric.length || lists.length ? null : h("p.small.muted", conn ? "This backend takes no sampler settings." : "Connect a backend to see its samplers."),
      numeric.map((key) => slider(key, values[key], (v) => setSampler(key, v))),
      lists.map((key) => h("div.field", h("label", LIST_SAMPLERS[key]),
        h("input", { type: "text", value: (values[key] || []).join(", "), placeholder: "comma separated", on: { change: (e) => setSampler(key, e.target.value.split(",").map((x) => x.trim()).filter(Boolean)) } })))));
}

/** Load an imported SillyTavern sampler preset (kind ``sampler``) as the samplers. */
async function samplerPresetPicker() {
  let list = [];
  try { list = await api.get("/api/presets?kind=sampler"); } catch { list = []; }
  if (!list.length) return h("p.small.muted", "Import SillyTavern sampler preset files (Prompt tab) to load them here.");
  const select = h("select.grow", { "aria-label": "Sampler preset", "data-testid": "sampler-preset" },
    h("option", { value: "" }, settings.sampler_preset ? `Loaded: ${settings.sampler_preset}` : "Load a sampler preset…"),
    list.map((p) => h("option", { value: p.name }, p.name)));
  select.addEventListener("change", async () => {
    if (!select.value) return;
    try {
      settings = await api.post("/api/settings/sampler-preset", { name: select.value });
      toast(`Loaded the sampler preset ${select.value}; reopen the tab to see its values`);
    } catch (err) {
      toast(err.message, { hint: err.hint, bad: true });
    }
  });
  return h("div.field", h("label", "Sampler preset"), select);
}

function checkField(label, checked, onChange, testid) {
  const input = h("input", { type: "checkbox", "data-testid": testid });
  input.checked = Boolean(checked);
  input.addEventListener("change", () => onChange(input.checked));
  return h("label.check", input, label);
}

function numberField(label, value, min, max, step, onChange, testid) {
  const input = h("input", { type: "number", min, max, step, value: value ?? "", placeholder: "backend default", "data-testid": testid });
  input.addEventListener("change", () => onChange(input.value === "" ? null : Number(input.value)));
  return h("div.field", h("label", label), input);
}

/** A sampler's slider and number box. Unset, the slider rests (dimmed) where the backend's
 * default is and the box says "default"; moving either sets a value, emptying the box unsets it. */
function slider(key, value, onChange) {
  const [label, min, max, step] = SAMPLERS[key];
  const rest = NEUTRAL[key] ?? min;
  const unset = value === null || value === undefined;
  const range = h("input", { type: "range", min, max, step, value: unset ? rest : value, "aria-label": label, "data-range": key });
  const num = h("input", { type: "number", min, max, step, value: value ?? "", placeholder: "default", "aria-label": `${label} value`, dataset: { sampler: key } });
  const box = h(`div.sampler${unset ? ".unset" : ""}`, h("div.top", h("span", label), num), range);
  range.addEventListener("input", () => { num.value = range.value; box.classList.remove("unset"); onChange(Number(range.value)); });
  num.addEventListener("change", () => {
    const cleared = num.value === "";
    range.value = cleared ? rest : num.value;
    box.classList.toggle("unset", cleared);
    onChange(cleared ? null : Number(num.value));
  });
  return box;
}

async function promptTab() {
  const system = h("textarea", { rows: 5, placeholder: "Empty: the chosen system-prompt preset (text backends) or SillyTavern's main prompt (chat backends)", "data-testid": "system-prompt" }, settings.system_prompt || "");
  const setSystem = () => queue("system_prompt", system.value.trim() ? system.value : null);
  system.addEventListener("input", setSystem);
  const applySystem = (text) => { system.value = text; setSystem(); };
  const postHistory = h("textarea", { rows: 3, placeholder: "Chat backends: sent after the chat history", "data-testid": "post-history" }, settings.post_history_instructions || "");
  postHistory.addEventListener("input", () => queue("post_history_instructions", postHistory.value));
  const templates = h("div.card-box");
  const file = h("input", { type: "file", accept: ".json,application/json", hidden: true });
  const drawTemplates = async () => replace(templates, h("h3", "Templates"),
    await templatePickers(settings, queue, applySystem),
    button("Import a preset (JSON)", () => file.click(), { cls: "small", iconName: "upload" }), file);
  file.addEventListener("change", async () => { if (await importPreset(file)) await drawTemplates(); });
  await drawTemplates();
  const an = settings.author_note || {};
  const note = h("textarea", { rows: 3, placeholder: "A reminder inserted near the end of the chat", "data-testid": "author-note" }, an.text || "");
  note.addEventListener("input", () => queue("author_note", { text: note.value }));
  const depth = h("input", { type: "number", min: 0, max: 100, value: an.depth ?? 4 });
  depth.addEventListener("change", () => queue("author_note", { depth: Number(depth.value) }));
  const every = h("input", { type: "number", min: 0, max: 100, value: an.frequency ?? 1 });
  every.addEventListener("change", () => queue("author_note", { frequency: Number(every.value) }));
  const role = h("select", {}, ["system", "user", "assistant"].map((r) => h("option", { value: r, selected: (an.role || "system") === r }, r)));
  role.addEventListener("change", () => queue("author_note", { role: role.value }));
  return h("div",
    templates,
    h("div.card-box", h("h3", "Instruct mode (text backends)"),
      checkField("Instruct mode (off: plain \"Name: text\" lines, as SillyTavern's default)", settings.instruct_enabled ?? Boolean(settings.instruct_template), (v) => queue("instruct_enabled", v), "instruct-enabled"),
      checkField("Auto-select the instruct template by model name", settings.instruct_auto_select ?? true, (v) => queue("instruct_auto_select", v), "instruct-auto-select")),
    h("div.card-box", h("h3", "System prompt"),
      checkField("Send a system prompt (text backends)", settings.system_prompt_enabled ?? true, (v) => queue("system_prompt_enabled", v), "system-prompt-enabled"),
      checkField("Prefer the character's system prompt ({{original}} = this one)", settings.prefer_character_prompt ?? true, (v) => queue("prefer_character_prompt", v), "prefer-character-prompt"),
      system),
    h("div.card-box", h("h3", "Post-History Instructions"),
      checkField("Prefer the character's Post-History Instructions ({{original}} = these)", settings.prefer_character_jailbreak ?? true, (v) => queue("prefer_character_jailbreak", v), "prefer-character-jailbreak"),
      postHistory),
    h("div.card-box", h("h3", "Author's note"), note,
      h("div.grid-2", h("div.field", h("label", "Insertion depth"), depth), h("div.field", h("label", "Every N messages"), every)),
      h("div.field", h("label", "Role"), role)),
    summaryBox(),
    recallBox(),
    await embeddingsBox(),
    databankBox());
}

const SUMMARY_POSITIONS = [["in_prompt", "After the main prompt"], ["in_chat", "In the chat at a depth"], ["before_prompt", "Before the prompt"], ["none", "Not sent"]];

/** A number field for ``key`` (kept within ``min``..``max``, in ``step``s when given),
 * saved through ``set``. */
function numberInput(set, key, value, min, max, testid, step) {
  const input = h("input", { type: "number", min, max, step, value, "data-testid": testid });
  input.addEventListener("change", () => {
    if (input.value === "") return;
    const kept = Math.min(max, Math.max(min, Number(input.value)));
    input.value = kept; // the field shows what is saved
    set(key, kept);
  });
  return input;
}

/** Where a text goes in the prompt: Position (of ``positions``), Depth and Role, saved
 * through ``set``; ``values`` holds the current ones, ``prefix`` names the test ids. */
function placementFields(set, values, positions, defaultPosition, prefix) {
  const position = h("select", { "data-testid": `${prefix}-position` }, positions.map(([v, label]) => h("option", { value: v, selected: (values.position || defaultPosition) === v }, label)));
  position.addEventListener("change", () => set("position", position.value));
  const role = h("select", { "data-testid": `${prefix}-role` }, ["system", "user", "assistant"].map((r) => h("option", { value: r, selected: (values.role || "system") === r }, r)));
  role.addEventListener("change", () => set("role", role.value));
  return [
    h("div.field", h("label", "Position"), position, h("div.help", "Depth and role are for In the chat at a depth.")),
    h("div.grid-2", h("div.field", h("label", "Depth"), numberInput(set, "depth", values.depth ?? 2, 0, 10000, `${prefix}-depth`)), h("div.field", h("label", "Role"), role)),
  ];
}

/** Settings › Summary: how a chat's summary is made (This chat's settings › Summarize now,
 * or every N messages) and where it goes in the prompt. */
function summaryBox() {
  const sm = settings.summary || {};
  const set = (key, value) => queue("summary", { [key]: value });
  const prompt = h("textarea", { rows: 4, "data-testid": "summary-prompt" }, sm.prompt || "");
  prompt.addEventListener("input", () => { if (prompt.value.trim()) set("prompt", prompt.value); });
  const template = h("input", { type: "text", value: sm.template ?? "[Summary: {{summary}}]", "data-testid": "summary-template" });
  template.addEventListener("input", () => set("template", template.value));
  return h("div.card-box", { "data-testid": "summary-settings" }, h("h3", "Summary"),
    h("p.small.muted", "A chat's summary (made in This chat's settings, or every N messages below) is sent with every reply. {{summary}} stands for it in any prompt text."),
    h("div.field", h("label", "Summary prompt"), prompt, h("div.help", "The instruction the model answers with the summary; {{words}} is the word limit.")),
    h("div.field", h("label", "Summary template"), template, h("div.help", "How the summary goes into the prompt; {{summary}} is its text.")),
    ...placementFields(set, sm, SUMMARY_POSITIONS, "in_prompt", "summary"),
    h("div.grid-2", h("div.field", h("label", "Words at most"), numberInput(set, "words", sm.words ?? 200, 1, 10000, "summary-words")),
      h("div.field", h("label", "Length in tokens (0: the reply length)"), numberInput(set, "max_tokens", sm.max_tokens ?? 0, 0, 100000, "summary-max-tokens"))),
    h("div.field", h("label", "Summarize every N messages (0: only when asked)"), numberInput(set, "every", sm.every ?? 0, 0, 10000, "summary-every"),
      h("div.help", "A new summary is made in the background once that many messages have come since the last one.")));
}

const RECALL_POSITIONS = SUMMARY_POSITIONS.filter(([v]) => v !== "none");

/** What recall and the Data Bank share: how many texts are found (``found`` labels them)
 * by how many newest messages, and how and where they go into the prompt. */
function lookupFields(set, values, prefix, { found, query, template, position, foundHelp }) {
  const text = h("textarea", { rows: 2, "data-testid": `${prefix}-template` }, values.template ?? template);
  text.addEventListener("input", () => set("template", text.value));
  return [
    h("div.grid-2", h("div.field", h("label", `${found} at most`), numberInput(set, "results", values.results ?? 3, 1, 20, `${prefix}-results`)),
      h("div.field", h("label", query), numberInput(set, "query_messages", values.query_messages ?? 2, 1, 20, `${prefix}-query`))),
    h("div.field", h("label", "Template"), text, h("div.help", `How they go into the prompt; {{text}} is the ${foundHelp} found.`)),
    ...placementFields(set, values, RECALL_POSITIONS, position, prefix),
  ];
}

/** Settings › Recall: earlier messages of a long chat that share words with the newest
 * ones go back into the prompt (found in the chat's own search index, no model needed). */
function recallBox() {
  const rc = settings.recall || {};
  const set = (key, value) => queue("recall", { [key]: value });
  return h("div.card-box", { "data-testid": "recall-settings" }, h("h3", "Recall"),
    h("p.small.muted", "When a chat is longer than the context, its oldest messages drop out of the prompt. With recall on, the ones that share the most words with the newest messages come back, oldest first, as \"Name: text\"."),
    checkField("Recall earlier messages", rc.enabled ?? false, (v) => set("enabled", v), "recall-enabled"),
    ...lookupFields(set, rc, "recall", { found: "Messages recalled", query: "Newest messages to match", template: "Past events:\n{{text}}", position: "in_chat", foundHelp: "messages" }));
}

/** Settings › Embeddings: the one stored connection that turns texts into vectors ("":
 * none) and its embedding model, shared by the features that find texts by meaning (today
 * the Data Bank, when its "Find chunks by meaning" is on). */
async function embeddingsBox() {
  const em = settings.embeddings || {};
  const set = (key, value) => queue("embeddings", { [key]: value });
  let connections = state.connections;
  if (!connections.length) {
    try { connections = state.connections = await api.get("/api/connections"); } catch { connections = []; }
  }
  const chosen = em.connection || "";
  const names = connections.map((c) => c.name);
  const select = h("select", { "data-testid": "embeddings-connection" },
    h("option", { value: "", selected: !chosen }, "None (find by words)"),
    names.map((name) => h("option", { value: name, selected: name === chosen }, name)),
    chosen && !names.includes(chosen) ? h("option", { value: chosen, selected: true }, `${chosen} (not found)`) : null);
  select.addEventListener("change", () => set("connection", select.value));
  const model = h("input", { type: "text", value: em.model ?? "", placeholder: "the usual one for the connection", "data-testid": "embeddings-model" });
  model.addEventListener("input", () => set("model", model.value.trim()));
  return h("div.card-box", { "data-testid": "embeddings-settings" }, h("h3", "Embeddings"),
    h("p.small.muted", "One connection turns texts into embeddings for every feature that finds texts by meaning (the Data Bank below); with none, they find texts by words."),
    h("div.field", h("label", "Embeddings connection"), select,
      h("div.help", "The built-in model (offline: ", whole("local"), "), OpenAI, OpenAI-compatible and custom servers (LM Studio, vLLM, llama.cpp's server started with ", whole("--embedding"), "), llama.cpp and Ollama connections make embeddings. The texts embedded (documents' chunks, the newest messages) are sent to the one picked.")),
    h("div.field", h("label", "Embedding model"), model,
      h("div.help", "Empty: ", whole("text-embedding-3-small"), " on OpenAI, ", whole("mistral-embed"), " on Mistral, ", whole("nomic-embed-text"), " on Ollama, else the connection's own model.")));
}

/** Settings › Data Bank: how many chunks of the documents attached to a chat (This chat's
 * settings › Data Bank) go into the prompt, found by the newest messages' words or, with
 * the Embeddings connection, by meaning, and where. */
function databankBox() {
  const db = settings.databank || {};
  const set = (key, value) => queue("databank", { [key]: value });
  return h("div.card-box", { "data-testid": "databank-settings" }, h("h3", "Data Bank"),
    h("p.small.muted", "Documents attached in a chat's settings (to every chat, a character or one chat) are cut into chunks. On each reply, the chunks that share the most words with the last few messages (Messages to match), or that are closest to them in meaning when an Embeddings connection is set, go into the prompt."),
    checkField("Use the Data Bank's documents in prompts", db.enabled ?? true, (v) => set("enabled", v), "databank-enabled-setting"),
    h("div.field", h("label", "Chunk size (characters)"), numberInput(set, "chunk_size", db.chunk_size ?? 1000, 100, 20000, "databank-chunk-size"),
      h("div.help", "Applies to documents attached from now on; attach a document again to cut it anew.")),
    checkField("Find chunks by meaning (with the Embeddings connection)", db.by_meaning ?? true, (v) => set("by_meaning", v), "databank-by-meaning"),
    h("div.field", h("label", "Minimum score"), numberInput(set, "min_score", db.min_score ?? 0.2, 0, 1, "databank-min-score", 0.05),
      h("div.help", "How close in meaning (0 to 1) a chunk must be to the newest messages. Off, with no Embeddings connection, or when it fails, chunks are found by words.")),
    ...lookupFields(set, db, "databank", { found: "Chunks sent", query: "Messages to match", template: "Related information:\n{{text}}", position: "in_prompt", foundHelp: "chunks" }));
}

/** ``text`` kept on one line (a flag or a model name is not broken at its hyphens). */
function whole(text) {
  const span = h("span", text);
  span.style.whiteSpace = "nowrap";
  return span;
}

function presetKind(data) {
  if ("input_sequence" in data || "output_sequence" in data) return "instruct";
  if ("story_string" in data) return "context";
  if ("content" in data && Object.keys(data).length <= 3) return "sysprompt";
  return "sampler";
}

/** Import the chosen preset file; true when it was stored. */
async function importPreset(file) {
  const f = file.files[0];
  if (!f) return false;
  let stored = false;
  try {
    const data = JSON.parse(await f.text());
    const kind = presetKind(data);
    const name = data.name || f.name.replace(/\.json$/i, "");
    await api.put(`/api/presets/${kind}/${encodeURIComponent(name)}`, { data });
    toast(`Imported the ${kind} preset ${name}`);
    stored = true;
  } catch (err) {
    toast(`${f.name}: ${err.message}`, { hint: err.hint || "Pick a SillyTavern preset JSON file", bad: true });
  }
  file.value = "";
  return stored;
}

/** Make a persona the one in use (the default, and the chosen one in the settings). */
async function usePersona(id) {
  await api.post(`/api/personas/${id}/default`);
  settings = await api.patch("/api/settings", { persona_id: id });
  emit("persona-changed");
}

async function personaTab() {
  const personas = await api.get("/api/personas");
  const wrap = h("div", { "data-testid": "personas" });
  const draw = (list, selectedId) => {
    const chosen = list.find((p) => p.id === selectedId) || list.find((p) => p.is_default) || list[0] || null;
    const select = h("select", { "aria-label": "Persona" }, list.map((p) => h("option", { value: p.id, selected: chosen && p.id === chosen.id }, `${p.name}${p.is_default ? " (default)" : ""}`)));
    select.addEventListener("change", () => draw(list, Number(select.value)));
    const name = h("input", { type: "text", value: chosen ? chosen.name : "", "aria-label": "Persona name" });
    const desc = h("textarea", { rows: 5, "aria-label": "Persona description", placeholder: "Who you are in the story" }, chosen ? chosen.description : "");
    const saveBtn = button("Save", async () => {
      const saved = await api.patch(`/api/personas/${chosen.id}`, { name: name.value.trim() || "User", description: desc.value });
      draw(await api.get("/api/personas"), saved.id);
      toast("Persona saved");
    }, { cls: "primary small", disabled: !chosen });
    const defaultBtn = button("Use by default", async () => {
      await usePersona(chosen.id);
      draw(await api.get("/api/personas"), chosen.id);
    }, { cls: "small", disabled: !chosen || chosen.is_default });
    const add = button("New persona", async () => {
      const created = await api.post("/api/personas", { name: "New persona" });
      await usePersona(created.id); // a persona made here is the one the chat uses from now on
      draw(await api.get("/api/personas"), created.id);
    }, { cls: "small", iconName: "plus" });
    const remove = button("Delete", async () => {
      await api.del(`/api/personas/${chosen.id}`);
      draw(await api.get("/api/personas"), null);
    }, { cls: "danger small", disabled: !chosen });
    replace(wrap, h("div.card-box", h("h3", "Your persona"),
      list.length ? [h("div.field", h("label", "Persona"), select), h("div.field", h("label", "Name"), name), h("div.field", h("label", "Description"), desc),
        h("div.row", saveBtn, defaultBtn, h("div.spacer"), remove)] : h("p.small.muted", "No persona yet: the chat calls you “User”."),
      h("div.row", { class: "mt" }, add)));
  };
  draw(personas, null);
  return wrap;
}
