// The connection panel, shaped like SillyTavern's: API, source, URL, key, model, Connect.

import { api } from "./api.js";
import { askText, button, h, icon, iconButton, replace, toast, confirmDialog } from "./dom.js";
import { state, emit } from "./state.js";

/** The API groups, in the order the server lists the API types (each backend declares its
 * group and the group's label). */
function apiGroups() {
  const groups = new Map();
  for (const t of state.apiTypes) if (!groups.has(t.group)) groups.set(t.group, t.group_label);
  return [...groups];
}

/** Options the panel sets through its own fields, not the generic option list. */
const OWN_FIELDS = { horde: ["workers", "trusted_workers", "models"] };
const MODELS_OFFERED = 200; // the model suggestions shown at once (some backends list 20,000+)

/** The models whose id or name holds every word of ``typed`` (all when empty), at most
 * ``MODELS_OFFERED``: a datalist of tens of thousands froze the page. */
function matchingModels(list, typed) {
  const words = typed.toLowerCase().split(/\s+/).filter(Boolean);
  const out = [];
  for (const m of list) {
    const text = `${m.id} ${m.name || ""}`.toLowerCase();
    if (words.every((w) => text.includes(w))) out.push(m);
    if (out.length >= MODELS_OFFERED) break;
  }
  return out;
}

/** An input for one declared connection option (type, default and help from the server). */
function optionInput(opt, value) {
  const attrs = { "data-option": opt.name, "aria-label": opt.name, title: opt.help };
  if (opt.type === "bool") {
    const box = h("input", { type: "checkbox", ...attrs });
    box.checked = value !== undefined ? !!value : !!opt.default;
    return box;
  }
  const numeric = opt.type === "int" || opt.type === "float";
  const input = h("input", { type: numeric ? "number" : "text", step: opt.type === "float" ? "any" : "1", spellcheck: "false", ...attrs });
  const shown = (v) => (v === null || v === undefined ? "" : typeof v === "string" ? v : opt.type === "list[string]" ? v.join(", ") : JSON.stringify(v));
  input.value = value !== undefined ? shown(value) : "";
  input.placeholder = shown(opt.default);
  return input;
}

/** The value an option input holds, or ``undefined`` when it is left at its default. */
function optionValue(opt, input) {
  if (opt.type === "bool") return input.checked === !!opt.default ? undefined : input.checked;
  const raw = input.value.trim();
  if (!raw) return undefined;
  if (opt.type === "int" || opt.type === "float") return Number(raw);
  if (opt.type === "list[string]") return raw.split(",").map((v) => v.trim()).filter(Boolean);
  if (opt.type === "string" || opt.type.includes("string")) {
    try { const parsed = JSON.parse(raw); if (typeof parsed !== "string" && opt.type !== "string") return parsed; } catch { /* plain text */ }
    return raw;
  }
  try { return JSON.parse(raw); } catch { return raw; }
}

/** Reload the connections and update the status light; tests the default connection once. */
export async function refreshConnection({ test = true } = {}) {
  try {
    state.connections = await api.get("/api/connections");
  } catch (err) {
    toast(err.message, { hint: err.hint, bad: true });
    return;
  }
  state.connection = state.connections.find((c) => c.is_default) || null;
  paintDot();
  if (test && state.connection && state.connected === null) {
    setDot("busy");
    try {
      const status = await api.post(`/api/connections/${encodeURIComponent(state.connection.name)}/test`);
      state.connected = !!status.ok;
      state.lastStatus = status;
    } catch (err) {
      state.connected = false;
      state.lastStatus = { ok: false, summary: err.message, hint: err.hint };
    }
    paintDot();
  }
}

function setDot(kind) {
  const dot = document.getElementById("conn-dot");
  dot.className = `status-dot${kind ? "." + kind : ""}`.replace(".", " ");
}

function paintDot() {
  setDot(state.connected === true ? "ok" : state.connected === false ? "bad" : "");
  const nav = document.getElementById("nav-connection");
  nav.title = state.connection ? `Connection: ${state.connection.name}${state.connected === false ? " (not connected)" : ""}` : "No connection";
  emit("connection-state"); // the label under the message box shows the same
}

/** Draw the connection panel into ``root``. */
export function renderConnectionPanel(root, close) {
  const form = {};
  let current = state.connection ? { ...state.connection } : null;
  const profile = h("select", { "aria-label": "Connection profile", "data-testid": "conn-profile" });
  const group = h("select", { "aria-label": "API", "data-testid": "conn-api" });
  const source = h("select", { "aria-label": "Source", "data-testid": "conn-source" });
  const name = h("input", { type: "text", "aria-label": "Connection name", "data-testid": "conn-name", placeholder: "my-backend" });
  const url = h("input", { type: "url", "aria-label": "Server URL", "data-testid": "conn-url", spellcheck: "false" });
  const key = h("input", { type: "password", "aria-label": "API key", "data-testid": "conn-key", autocomplete: "off", spellcheck: "false" });
  const keyState = h("span.key-state", { "data-testid": "key-state" });
  const clearKey = button("Clear key", () => removeKey(), { cls: "ghost small", "data-testid": "clear-key" });
  const moreKeys = h("textarea.masked", { rows: 2, "aria-label": "More API keys", "data-testid": "conn-more-keys", autocomplete: "off", spellcheck: "false", placeholder: "More keys, one a line: tried in order when a key is refused or rate limited" });
  const keyList = h("ul.key-list", { "data-testid": "key-list" });
  const fallback = h("input", { type: "text", "aria-label": "Fallback connections", "data-testid": "conn-fallback", placeholder: "none" });
  const model = h("input", { type: "text", list: "model-list", "aria-label": "Model", "data-testid": "conn-model", placeholder: "Connect to list the models" });
  const models = h("datalist", { id: "model-list" });
  const modelCount = h("span.help");
  let modelList = []; // every model the backend lists; the datalist offers the matching few
  const offerModels = () => replace(models, matchingModels(modelList, model.value).map((m) => h("option", { value: m.id }, m.name || m.id)));
  model.addEventListener("input", offerModels);
  const workers = h("input", { type: "text", "aria-label": "Horde workers", placeholder: "any worker" });
  const trusted = h("input", { type: "checkbox" });
  const hordeBox = h("div.card-box", h("h3", "AI Horde"),
    h("div.field", h("label", "Workers (ids, comma separated)"), workers),
    h("label.check", trusted, "Trusted workers only"),
    h("div.help", { "data-testid": "kudos" }, ""));
  const optionList = h("div.options", { "data-testid": "conn-options" });
  const optionBox = h("details.card-box", { "data-testid": "conn-options-box" }, h("summary", "Backend options"), optionList);
  let optionInputs = [];
  const dot = h("span.status-dot");
  const statusText = h("span.small.muted", { "data-testid": "conn-status" });
  const diagnosis = h("div", { "data-testid": "diagnosis" });
  const connectBtn = button("Connect", () => connect(), { cls: "primary", iconName: "plug", "data-testid": "connect" });
  const urlHelp = h("div.help", { "data-testid": "url-help" });
  form.urlField = h("div.field", h("label", "API URL"), url, urlHelp);
  form.keyField = h("div.field", h("label", "API key"), key, h("div.row", keyState, h("div.spacer"), clearKey), moreKeys, keyList);
  form.fallbackField = h("div.field", h("label", "Fallback connections"), fallback,
    h("div.help", "Comma separated, in order: they answer when this one fails before replying"));

  const typesIn = (g) => state.apiTypes.filter((t) => t.group === g);
  const typeOf = (n) => state.apiTypes.find((t) => t.name === n);

  function fillProfiles() {
    replace(profile, state.connections.map((c) => h("option", { value: c.name, selected: current && c.name === current.name }, `${c.name}${c.is_default ? " (default)" : ""}`)),
      h("option", { value: "", selected: !current }, "+ New connection"));
  }
  function fillGroups(selected) {
    replace(group, apiGroups().map(([g, label]) => h("option", { value: g, selected: g === selected }, label)));
  }
  function fillOptions() {
    const type = typeOf(source.value);
    const skip = OWN_FIELDS[type && type.group] || [];
    const values = (current && current.api === source.value && current.options) || {};
    const shown = type ? type.options.filter((o) => !o.common && !skip.includes(o.name)) : [];
    optionInputs = shown.map((opt) => [opt, optionInput(opt, values[opt.name])]);
    replace(optionList, optionInputs.map(([opt, input]) => opt.type === "bool"
      ? h("label.check", input, opt.name, h("span.help", ` ${opt.help}`))
      : h("div.field", h("label", opt.name), input, h("div.help", opt.help))));
    optionBox.hidden = !optionInputs.length;
  }
  function fillSources(g, selected) {
    replace(source, typesIn(g).map((t) => h("option", { value: t.name, selected: t.name === selected }, t.label)));
  }
  function showFields() {
    const type = typeOf(source.value);
    form.urlField.hidden = !type || !type.needs_url;
    url.placeholder = (type && type.default_url) || "";
    urlHelp.textContent = type && type.default_url ? `The server's base URL, e.g. ${type.default_url}` : "The server's base URL";
    form.keyField.hidden = type && type.group === "local";
    hordeBox.hidden = !type || type.group !== "horde";
    key.placeholder = type && type.key_env ? `Paste a key (or set ${type.key_env})` : "Paste a key if the server needs one";
    model.placeholder = type && type.default_model ? `${type.default_model} (default)` : "Connect to list the models";
    fillOptions();
  }
  function load(c) {
    current = c;
    const type = c ? typeOf(c.api) : state.apiTypes.find((t) => t.group === "chat") || state.apiTypes[0];
    const g = type ? type.group : "local";
    fillProfiles();
    fillGroups(g);
    fillSources(g, type && type.name);
    name.value = c ? c.name : "";
    name.disabled = !!c;
    url.value = (c && c.url) || "";
    model.value = (c && c.model) || "";
    key.value = "";
    workers.value = ((c && c.options.workers) || []).join(", ");
    trusted.checked = !!(c && c.options.trusted_workers);
    showFields();
    paintKey(c ? c.key : { set: false });
    paintKeys(c ? c.keys || [] : []);
    moreKeys.value = "";
    fallback.value = ((c && c.fallback) || []).join(", ");
    modelList = [];
    replace(models);
    modelCount.textContent = "";
    diagnosis.replaceChildren();
    const isDefault = c && state.connection && c.name === state.connection.name;
    paintStatus(isDefault ? state.connected : null, isDefault ? state.lastStatus : null);
  }
  function paintKey(info) {
    keyState.className = `key-state${info.set ? " set" : ""}`;
    replace(keyState, info.set ? [icon("check"), info.last4 ? `set …${info.last4}` : "set"] : "not set");
    if (info.set && info.source && info.source.startsWith("env:")) keyState.append(` (from ${info.source.slice(4)})`);
    key.placeholder = info.set ? `set …${info.last4 || ""} (type to replace)` : key.placeholder;
    clearKey.hidden = !(info.set && info.source === "stored");
  }
  function paintKeys(keys) {
    const shown = keys.length > 1 || keys.some((k) => k.state !== "ok");
    replace(keyList, shown ? keys.map((k) => h(`li.key-${k.state}`, { "data-testid": "key-status" }, k.summary)) : []);
  }
  function enteredKeys() {
    return [key.value, ...moreKeys.value.split("\n")].map((k) => k.trim()).filter(Boolean);
  }
  function paintStatus(ok, status) {
    dot.className = `status-dot${ok === true ? " ok" : ok === false ? " bad" : ""}`;
    statusText.textContent = ok === true ? "Connected" : ok === false ? "Not connected" : "Not checked";
    if (status) showDiagnosis(status);
  }
  function showDiagnosis(status) {
    replace(diagnosis, h(`div.diagnosis.${status.ok ? "ok" : "bad"}`, icon(status.ok ? "check" : "close"),
      h("div", h("div.what", status.summary), status.hint ? h("div.hint", status.hint) : null)));
    diagnosis.scrollIntoView({ block: "nearest" });
    const kudos = status.details && status.details.kudos;
    hordeBox.querySelector("[data-testid=kudos]").textContent = kudos !== undefined ? `Kudos: ${kudos}` : "";
  }
  async function removeKey() {
    if (!current) return;
    const info = await api.del(`/api/connections/${encodeURIComponent(current.name)}/key`);
    paintKey(info);
    toast("Key removed");
  }
  function body() {
    const options = { ...((current && current.api === source.value && current.options) || {}) };
    for (const [opt, input] of optionInputs) {
      const value = optionValue(opt, input);
      if (value === undefined) delete options[opt.name];
      else options[opt.name] = value;
    }
    if (!hordeBox.hidden) {
      options.workers = workers.value.split(",").map((w) => w.trim()).filter(Boolean);
      options.trusted_workers = trusted.checked;
      options.models = model.value.trim() ? [model.value.trim()] : [];
    }
    const chain = fallback.value.split(",").map((n) => n.trim()).filter(Boolean);
    if (chain.length) options.fallback = chain;
    else delete options.fallback;
    return { api: source.value, url: url.value.trim() || null, model: model.value.trim() || null, options };
  }
  async function connect() {
    const connName = (current ? current.name : name.value.trim()) || source.value;
    connectBtn.disabled = true;
    dot.className = "status-dot busy";
    statusText.textContent = "Connecting…";
    diagnosis.replaceChildren();
    try {
      const path = `/api/connections/${encodeURIComponent(connName)}`;
      const exists = state.connections.some((c) => c.name === connName);
      const keys = enteredKeys();
      let saved = exists ? await api.put(path, body()) : await api.post("/api/connections", { name: connName, ...body(), keys });
      if (exists && keys.length) await api.put(`${path}/keys`, { keys });
      saved = await api.post(`${path}/default`);
      key.value = "";
      moreKeys.value = "";
      let status;
      try {
        status = await api.post(`${path}/test`);
      } catch (err) {
        status = { ok: false, summary: err.message, hint: err.hint };
      }
      state.connected = !!status.ok;
      state.lastStatus = status;
      await refreshConnection({ test: false });
      current = state.connections.find((c) => c.name === saved.name);
      load(current);
      paintStatus(state.connected, status);
      if (status.ok) await fillModels(connName, status);
      emit("connection-changed");
    } catch (err) {
      paintStatus(false, { ok: false, summary: err.message, hint: err.hint });
    } finally {
      connectBtn.disabled = false;
    }
  }
  async function fillModels(connName, status) {
    let list = [];
    try {
      list = await api.get(`/api/connections/${encodeURIComponent(connName)}/models`);
    } catch (err) {
      modelCount.textContent = `Could not list models: ${err.message}`;
      return;
    }
    modelList = list;
    offerModels();
    const many = list.length > MODELS_OFFERED ? ": type to find one" : "";
    modelCount.textContent = list.length ? `${list.length.toLocaleString()} model${list.length === 1 ? "" : "s"} available${many}` : "The backend lists no models";
    if (!model.value && (status.model || list[0])) {
      model.value = status.model || list[0].id;
      await api.put(`/api/connections/${encodeURIComponent(connName)}`, body());
      await refreshConnection({ test: false });
    }
  }
  async function saveAsProfile() {
    if (!current) { toast("Connect first, then save the connection as a profile", { bad: true }); return; }
    const profileName = await askText("Save as a connection profile", current.name, "Save");
    if (!profileName || !profileName.trim()) return;
    try {
      const prefs = await api.get("/api/settings");
      const saved = await api.post("/api/profiles", {
        name: profileName.trim(), connection: current.name, model: model.value.trim() || null,
        instruct_template: prefs.instruct_template || null, context_template: prefs.context_template || null });
      toast(`Saved profile ${saved.name}: pick it for a chat under the message box`);
      emit("profiles-changed");
    } catch (err) {
      toast(err.message, { hint: err.hint, bad: true });
    }
  }
  async function deleteProfile() {
    if (!current) return;
    if (!(await confirmDialog(`Delete connection ${current.name}?`, "Its settings and stored key will be removed."))) return;
    await api.del(`/api/connections/${encodeURIComponent(current.name)}`);
    await refreshConnection({ test: false });
    load(state.connection);
  }

  profile.addEventListener("change", () => load(state.connections.find((c) => c.name === profile.value) || null));
  /** Another API type makes a new connection: a saved one is never rewritten behind its back. */
  function apiChanged() {
    if (current && source.value !== current.api) {
      current = null;
      fillProfiles();
      name.disabled = false;
      name.value = source.value;
      url.value = "";
      model.value = "";
      paintKey({ set: false });
      paintStatus(null, null);
      replace(diagnosis, h("div.help", { "data-testid": "new-connection-note" }, "A different API makes a new connection; the saved one stays as it was."));
    }
    showFields();
  }
  group.addEventListener("change", () => { fillSources(group.value); apiChanged(); });
  source.addEventListener("change", apiChanged);

  replace(root,
    h("div.panel-head", h("h2", "API connection"), iconButton("close", "Close", close)),
    h("div.panel-body", { "data-testid": "connection-panel" },
      h("div.field", h("label", "Connection"), h("div.row", h("div.grow", profile), iconButton("trash", "Delete this connection", deleteProfile))),
      h("div.field", h("label", "API"), group),
      h("div.field", h("label", "Source"), source),
      h("div.field", { "data-testid": "name-field" }, h("label", "Name"), name),
      form.urlField, form.keyField, form.fallbackField,
      h("div.field", h("label", "Model"), model, models, modelCount),
      hordeBox,
      optionBox,
      h("div.connect-row", connectBtn, dot, statusText, h("div.spacer"),
        button("Save as profile", () => saveAsProfile(), { cls: "ghost small", "data-testid": "save-profile" })),
      diagnosis));
  load(current);
}
