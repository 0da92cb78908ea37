// pytavern web UI: routing between the gallery and chats, and the side panels.

import { api } from "./api.js";
import { h, hydrateIcons, replace, toast } from "./dom.js";
import { state, on, emit } from "./state.js";
import { renderGallery, installDropImport } from "./characters.js";
import { openChatView, renderSidebar } from "./chat.js";
import { renderConnectionPanel, refreshConnection } from "./connection.js";
import { renderSettingsPanel } from "./settings.js";
import { renderWorldInfoPanel } from "./worldinfo.js";

const PANELS = { connection: renderConnectionPanel, settings: renderSettingsPanel, worldinfo: renderWorldInfoPanel };
const app = document.getElementById("app");
const panel = document.getElementById("panel");
let openPanel = null;

/** Open (or toggle) one of the side panels. */
export function showPanel(name) {
  if (openPanel === name) { closePanel(); return; }
  openPanel = name;
  panel.hidden = false;
  panel.setAttribute("aria-hidden", "false");
  app.classList.add("panel-open");
  for (const btn of document.querySelectorAll(".nav-btn[data-panel]")) btn.classList.toggle("active", btn.dataset.panel === name);
  replace(panel);
  PANELS[name](panel, closePanel);
}

/** Close the side panel. */
export function closePanel() {
  openPanel = null;
  panel.hidden = true;
  panel.setAttribute("aria-hidden", "true");
  app.classList.remove("panel-open");
  for (const btn of document.querySelectorAll(".nav-btn[data-panel]")) btn.classList.remove("active");
}

async function route() {
  const hash = location.hash || "#/characters";
  app.classList.remove("sidebar-open");
  const chatMatch = /^#\/chat\/(\d+)/.exec(hash);
  const charMatch = /^#\/character\/(\d+)/.exec(hash);
  try {
    if (chatMatch) await openChatView({ chatId: Number(chatMatch[1]) });
    else if (charMatch) await openChatView({ characterId: Number(charMatch[1]) });
    else await renderGallery();
  } catch (err) {
    toast(err.message, { hint: err.hint, bad: true });
    if (err.status === 404) location.hash = "#/characters";
  }
  document.getElementById("nav-characters").classList.toggle("active", !chatMatch && !charMatch);
}

function installChrome() {
  hydrateIcons();
  for (const btn of document.querySelectorAll(".nav-btn[data-panel]")) btn.addEventListener("click", () => showPanel(btn.dataset.panel));
  document.getElementById("btn-sidebar").addEventListener("click", () => app.classList.toggle("sidebar-open"));
  const scrim = h("div.scrim", { on: { click: () => { app.classList.remove("sidebar-open"); closePanel(); } } });
  document.querySelector(".body").append(scrim);
  document.body.append(h("div.drop-overlay", "Drop a character card (PNG or JSON) to import it"));
  installDropImport();
  on("navigate", (hash) => { if (location.hash === hash) route(); else location.hash = hash; });
  on("panel", (name) => showPanel(name));
  on("sidebar", () => renderSidebar());
}

async function start() {
  installChrome();
  window.addEventListener("hashchange", route);
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
