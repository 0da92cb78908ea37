// pytavern web UI: routing between the gallery and chats, and the side panels.

import { api, setCsrf, setLoginHandler } from "./api.js";
import { button, h, hydrateIcons, replace, toast } from "./dom.js";
import { state, on, emit } from "./state.js";
import { renderGallery, installDropImport } from "./characters.js";
import { openChatView } from "./chat.js";
import { renderSidebar } from "./chatlist.js";
import { renderConnectionPanel, refreshConnection } from "./connection.js";
import { renderSettingsPanel } from "./settings.js";
import { renderWorldInfoPanel } from "./worldinfo.js";
import { openGroupView, renderGroupsPanel } from "./groups.js";
import { renderRegexPanel } from "./regex.js";
import { openSearch } from "./search.js";
import { renderUsagePanel } from "./usage.js";

const PANELS = { connection: renderConnectionPanel, settings: renderSettingsPanel, worldinfo: renderWorldInfoPanel, groups: renderGroupsPanel, regex: renderRegexPanel, usage: renderUsagePanel };
const app = document.getElementById("app");
const panel = document.getElementById("panel");
let openPanel = null;

let leaveGuard = null; // async () => true when the open panel may close (unsaved edits)
let openedFrom = null;

/** Let the open panel ask before it closes (e.g. about unsaved edits). */
function guardPanel(fn) { leaveGuard = fn; }

async function mayLeavePanel() {
  if (!leaveGuard) return true;
  const ok = await leaveGuard();
  if (ok) leaveGuard = null;
  return ok;
}

/** Open (or toggle) one of the side panels; the panel takes the focus. */
export async function showPanel(name) {
  if (openPanel === name) { await closePanel(); return; }
  if (!(await mayLeavePanel())) return;
  if (!openPanel) openedFrom = document.activeElement;
  openPanel = name;
  panel.hidden = false;
  panel.setAttribute("aria-hidden", "false");
  panel.setAttribute("aria-label", PANEL_LABELS[name]);
  app.classList.add("panel-open");
  for (const btn of document.querySelectorAll(".nav-btn[data-panel]")) {
    btn.classList.toggle("active", btn.dataset.panel === name);
    btn.setAttribute("aria-expanded", String(btn.dataset.panel === name));
  }
  replace(panel);
  await PANELS[name](panel, closePanel, guardPanel);
  if (openPanel === name && !panel.contains(document.activeElement)) panel.querySelector(".panel-head button")?.focus();
}

/** Close the side panel (after its guard agrees); the focus goes back where it was. */
export async function closePanel() {
  if (!openPanel) return;
  if (!(await mayLeavePanel())) return;
  const name = openPanel;
  openPanel = null;
  panel.hidden = true;
  panel.setAttribute("aria-hidden", "true");
  app.classList.remove("panel-open");
  for (const btn of document.querySelectorAll(".nav-btn[data-panel]")) { btn.classList.remove("active"); btn.setAttribute("aria-expanded", "false"); }
  const back = openedFrom && openedFrom.isConnected ? openedFrom : document.getElementById(`nav-${name}`);
  openedFrom = null;
  back?.focus();
}

const PANEL_LABELS = { connection: "API connection", settings: "Generation settings", worldinfo: "World Info" };

/** Escape closes the topmost thing: a dialog (handled by it), the "..." menu, then a side panel. */
function onEscape(e) {
  if (e.key !== "Escape" || e.defaultPrevented) return;
  if (document.getElementById("modal-root").children.length) return;
  const menu = document.querySelector(".menu-list:not([hidden])");
  if (menu) { menu.hidden = true; menu.parentElement.querySelector("[data-testid=more]")?.focus(); e.preventDefault(); return; }
  if (openPanel) { e.preventDefault(); closePanel(); return; }
  if (app.classList.contains("sidebar-open")) { app.classList.remove("sidebar-open"); e.preventDefault(); }
}

/** A fresh visit (no address) opens the latest chat of the first character, ready to type. */
async function firstScreen() {
  const characters = await api.get("/api/characters");
  if (!characters.length) return "#/characters";
  const first = characters.reduce((a, b) => (a.id <= b.id ? a : b));
  return `#/character/${first.id}`;
}

async function route() {
  if (!location.hash) {
    history.replaceState(null, "", await firstScreen());
  }
  const hash = location.hash || "#/characters";
  app.classList.remove("sidebar-open");
  const chatMatch = /^#\/chat\/(\d+)(?:\/m\/(\d+))?/.exec(hash);
  const charMatch = /^#\/character\/(\d+)/.exec(hash);
  const groupMatch = /^#\/group\/(\d+)(?:\/m\/(\d+))?/.exec(hash);
  try {
    if (groupMatch) await openGroupView(Number(groupMatch[1]), groupMatch[2] ? Number(groupMatch[2]) : null);
    else if (chatMatch) await openChatView({ chatId: Number(chatMatch[1]), focusId: chatMatch[2] ? Number(chatMatch[2]) : null });
    else if (charMatch) await openChatView({ characterId: Number(charMatch[1]) });
    else await renderGallery();
  } catch (err) {
    toast(err.message, { hint: err.hint, bad: true });
    if (err.status === 404) location.hash = "#/characters";
  }
  document.getElementById("nav-characters").classList.toggle("active", !chatMatch && !charMatch && !groupMatch);
}

function installChrome() {
  hydrateIcons();
  for (const btn of document.querySelectorAll(".nav-btn[data-panel]")) btn.addEventListener("click", () => showPanel(btn.dataset.panel));
  document.getElementById("nav-search").addEventListener("click", openSearch);
  document.addEventListener("keydown", onEscape);
  document.getElementById("btn-sidebar").addEventListener("click", () => app.classList.toggle("sidebar-open"));
  const scrim = h("div.scrim", { on: { click: () => { app.classList.remove("sidebar-open"); closePanel(); } } });
  document.querySelector(".body").append(scrim);
  document.body.append(h("div.drop-overlay", "Drop a character card (PNG, CharX or JSON) to import it"));
  installDropImport();
  on("navigate", (hash) => { if (location.hash === hash) route(); else location.hash = hash; });
  on("panel", (name) => showPanel(name));
  on("sidebar", () => renderSidebar());
}

function loginScreen() {
  closePanel();
  app.classList.add("logged-out");
  const name = h("input", { type: "text", autocomplete: "username", "aria-label": "User name", "data-testid": "login-name" });
  const password = h("input", { type: "password", autocomplete: "current-password", "aria-label": "Password", "data-testid": "login-password" });
  const problem = h("div.small", { role: "alert" });
  const submit = async () => {
    try {
      const me = await api.post("/api/auth/login", { name: name.value.trim(), password: password.value });
      setCsrf(me.csrf);
      app.classList.remove("logged-out");
      showUser(me);
      await afterLogin();
    } catch (err) {
      replace(problem, h("div.diagnosis.bad", h("div", h("div.what", err.message), err.hint ? h("div.hint", err.hint) : null)));
    }
  };
  document.getElementById("sidebar").replaceChildren();
  replace(document.getElementById("topbar-title"));
  replace(document.getElementById("main"), h("div.page", h("div.login",
    h("img", { src: "img/icon.svg", alt: "", width: 48, height: 48 }), h("h1", "Log in to pytavern"),
    h("form", { on: { submit: (e) => { e.preventDefault(); submit(); } } },
      h("div.field", h("label", "User name"), name), h("div.field", h("label", "Password"), password),
      button("Log in", () => {}, { cls: "primary", type: "submit", "data-testid": "login" }), problem))));
  name.focus();
}

function showUser(me) {
  const nav = document.querySelector(".topbar-nav");
  nav.querySelector("[data-testid=logout]")?.remove();
  if (!me.accounts || !me.user) return;
  const out = button(me.user.name, async () => {
    await api.post("/api/auth/logout");
    setCsrf(null);
    showUser({ accounts: true, user: null });
    loginScreen();
  }, { cls: "ghost small", iconName: "user", title: "Log out", "data-testid": "logout" });
  nav.append(out);
}

async function afterLogin() {
  try {
    state.apiTypes = await api.get("/api/api-types");
  } catch (err) {
    toast(err.message, { hint: err.hint, bad: true });
  }
  state.connected = null;
  refreshConnection();
  await route();
}

async function start() {
  installChrome();
  setLoginHandler(loginScreen);
  window.addEventListener("hashchange", () => { if (!app.classList.contains("logged-out")) route(); });
  let me = { accounts: false, user: null };
  try { me = await api.get("/api/auth/me"); } catch { /* shown by the calls below */ }
  if (me.accounts && !me.user) {
    loginScreen();
    document.body.dataset.ready = "1";
    return;
  }
  setCsrf(me.csrf);
  showUser(me);
  try {
    state.apiTypes = await api.get("/api/api-types");
  } catch (err) {
    toast(err.message, { hint: err.hint, bad: true });
  }
  refreshConnection();
  await route();
  emit("ready");
  document.body.dataset.ready = "1";
}

start();
