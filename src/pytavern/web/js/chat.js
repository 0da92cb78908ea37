// The chat view: messages rendered as markdown, streaming, stop, swipes, edit, delete,
// regenerate, continue, impersonate, a summary every N messages after a reply
// (chatsettings.js; the sidebar is chatlist.js). A generation runs
// on the server: a reload, a tab coming back, a network switch or a second tab re-attach to
// it and show the reply continuing in place.

import { api, followGeneration, streamGeneration } from "./api.js";
import { askText, avatar, button, confirmDialog, debounce, focusMessage, h, icon, iconButton, replace, toast } from "./dom.js";
import { renderMarkdown } from "./markdown.js";
import { state, emit, on, avatarUrl } from "./state.js";
import { showPromptView, countTokens } from "./promptview.js";
import { drawQuickReplies, importQuickReplies } from "./quickreplies.js";
import { chatSettings, summarizeIfDue } from "./chatsettings.js";
import { profileSwitch } from "./profiles.js";
import { newChat, renderSidebar, renderTitle } from "./chatlist.js";
import { groupOfChat, openGroupView } from "./groups.js";

const main = () => document.getElementById("main");
let list = null; // the .messages-inner element
let scroller = null;
let input = null;
let sendBtn = null;
let tokenLabel = null;
let qrBar = null;

/** Open a chat by id, or the latest chat of a character (creating one if it has none). */
export async function openChatView({ chatId = null, characterId = null, focusId = null }) {
  if (chatId === null) {
    const chats = await api.get(`/api/characters/${characterId}/chats`);
    const chat = chats[0] || (await api.post(`/api/characters/${characterId}/chats`));
    history.replaceState(null, "", `#/chat/${chat.id}`);
    chatId = chat.id;
  }
  let chat = await api.get(`/api/chats/${chatId}`);
  const chats = await api.get(`/api/characters/${chat.character_id}/chats`);
  if (!chats.some((c) => c.id === chat.id)) { // not the character's own: a group's chat
    const group = await groupOfChat(chat.id);
    if (group) {
      history.replaceState(null, "", `#/group/${group.id}${focusId !== null ? `/m/${focusId}` : ""}`);
      await openGroupView(group.id, focusId);
      return;
    }
  }
  if (focusId !== null && !chat.messages.some((m) => m.id === focusId)) {
    chat = await api.get(`/api/chats/${chatId}?limit=5000`); // an older message: load further back
  }
  if (!state.character || state.character.id !== chat.character_id) {
    state.character = await api.get(`/api/characters/${chat.character_id}`);
  }
  if (state.generation) leaveGeneration(); // shown again below if it runs in this chat
  state.chatId = chat.id;
  state.messages = chat.messages;
  state.chats = chats;
  state.links = await api.get(`/api/chats/${chat.id}/links`);
  await loadUserName();
  renderTitle(chat);
  renderSidebar();
  renderChatMain();
  if (focusId !== null) focusMessage(list, focusId);
  await resumeGeneration();
}

/** The name the chat stores on the user's messages: the persona in use, else "User". */
async function loadUserName() {
  try {
    const [settings, personas] = await Promise.all([api.get("/api/settings"), api.get("/api/personas")]);
    const chosen = personas.find((p) => p.id === settings.persona_id) || personas.find((p) => p.is_default);
    state.userName = chosen ? chosen.name : "User";
  } catch {
    state.userName = state.userName || "User";
  }
}
on("persona-changed", async () => { await loadUserName(); if (list) drawMessages(); });

async function branchAt(m) {
  try {
    const chat = await api.post(`/api/messages/${m.id}/branch`);
    toast(`Branched: ${chat.title}`);
    emit("navigate", `#/chat/${chat.id}`);
  } catch (err) {
    toast(err.message, { hint: err.hint, bad: true });
  }
}

async function checkpointAt(m) {
  const name = await askText("Checkpoint name", "", "Create");
  if (!name) return;
  try {
    const chat = await api.post(`/api/messages/${m.id}/checkpoint`, { name });
    toast(`Checkpoint ${chat.title} saved`);
    state.links = await api.get(`/api/chats/${state.chatId}/links`);
    await reloadMessages();
  } catch (err) {
    toast(err.message, { hint: err.hint, bad: true });
  }
}

function openChatTitled(title) {
  const found = state.chats.find((c) => c.title === title);
  if (found) emit("navigate", `#/chat/${found.id}`);
  else toast(`The chat "${title}" is not here`, { hint: "It may have been deleted or renamed", bad: true });
}

// ---------- main area ----------

function renderChatMain() {
  list = h("div.messages-inner", { "data-testid": "messages" });
  scroller = h("div.messages", list);
  input = h("textarea", { rows: 1, placeholder: `Message ${state.character.name}…`, "aria-label": "Message", "data-testid": "input" });
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing && !matchMedia("(pointer: coarse)").matches) { e.preventDefault(); send(); }
  });
  input.addEventListener("input", () => { autosize(); updateTokens(); });
  sendBtn = h("button.icon-btn.send", { type: "button", title: "Send", "aria-label": "Send", "data-testid": "send", on: { click: () => (state.generation ? stopGeneration() : send()) } }, icon("send"));
  tokenLabel = h("span", { "data-testid": "token-count" }, "");
  const connLabel = h("button.conn.linkish", { type: "button", "data-testid": "composer-connection", on: { click: () => emit("panel", "connection") } });
  qrBar = h("div.qr-bar", { hidden: true, "data-testid": "quick-replies" });
  const composer = h("div.composer", h("div.composer-inner", qrBar,
    h("div.composer-box", moreMenu(), input, sendBtn),
    h("div.composer-meta", connLabel, profileSwitch(state.chatId), h("div.spacer"), tokenLabel)));
  replace(main(), scroller, composer);
  drawConnectionLabel(connLabel);
  drawMessages();
  scrollToEnd();
  drawQuickReplies(qrBar, quickReplyChat);
  // Ready to type, except on touch screens (the keyboard would cover the chat) or under a dialog.
  const touch = matchMedia("(pointer: coarse)").matches;
  if (!touch && !document.querySelector("#modal-root > *") && !document.getElementById("panel").contains(document.activeElement)) input.focus();
}

const quickReplyChat = {
  chatId: () => state.chatId,
  get input() { return input; },
  generate: (mode) => generate(mode),
  reload: () => reloadMessages(),
  busy: () => !!state.generation,
};

function pickQuickReplies() {
  const picker = h("input", { type: "file", accept: ".json,application/json", hidden: true });
  picker.addEventListener("change", async () => {
    const f = picker.files[0];
    if (!f) return;
    try {
      await importQuickReplies(f);
      await drawQuickReplies(qrBar, quickReplyChat);
    } catch (err) {
      toast(`${f.name}: ${err.message}`, { hint: err.hint, bad: true });
    }
  });
  document.body.append(picker);
  picker.click();
  setTimeout(() => picker.remove(), 60000);
}

on("connection-state", () => { const el = document.querySelector("[data-testid=composer-connection]"); if (el) drawConnectionLabel(el); });

/** The connection under the message box: the default one and its state, as in the top bar. */
function drawConnectionLabel(el) {
  const conn = state.connection;
  const dot = h(`span.status-dot${state.connected === true ? ".ok" : state.connected === false ? ".bad" : ""}`);
  replace(el, dot, conn ? `${conn.name}${conn.model ? " · " + conn.model : ""}` : "no connection");
  el.title = "Change the connection";
}

const updateTokens = debounce(async () => {
  const text = input.value;
  if (!text.trim()) { tokenLabel.textContent = ""; return; }
  const tokens = await countTokens(text);
  if (tokens !== null) tokenLabel.textContent = `~${tokens} token${tokens === 1 ? "" : "s"}`;
}, 250);

function autosize() {
  input.style.height = "auto";
  input.style.height = `${Math.min(input.scrollHeight, 220)}px`;
}

function moreMenu() {
  const menu = h("div.menu");
  const items = [
    ["refresh", "Regenerate", () => generate("regenerate"), "menu-regenerate"],
    ["forward", "Continue", () => generate("continue"), "menu-continue"],
    ["mask", "Impersonate", () => generate("impersonate"), "menu-impersonate"],
    ["eye", "Prompt of the last reply", () => showPromptView(state.chatId, state.messages.filter((m) => m.hidden).length), "menu-prompt"],
    ["sliders", "This chat's settings", () => chatSettings(state.chatId), "menu-chat-settings"],
    ["plus", "New chat", newChat, "menu-new-chat"],
    ["upload", "Import quick replies", pickQuickReplies, "menu-import-qr"],
  ];
  const listEl = h("div.menu-list", { hidden: true, role: "menu" }, items.map(([ic, label, fn, id]) =>
    h("button", { type: "button", role: "menuitem", "data-testid": id, on: { click: () => { listEl.hidden = true; fn(); } } }, icon(ic), label)));
  const toggle = iconButton("more", "More actions", (e) => { e.stopPropagation(); listEl.hidden = !listEl.hidden; }, { "data-testid": "more" });
  document.addEventListener("click", (e) => { if (!menu.contains(e.target)) listEl.hidden = true; });
  menu.append(toggle, listEl);
  return menu;
}

function drawMessages() {
  const lastAssistant = findLastAssistant();
  replace(list, state.messages.length ? state.messages.map((m) => messageView(m, m === lastAssistant && m === state.messages.at(-1))) : emptyChat());
}

function emptyChat() {
  return h("div.empty", icon("chat"), h("h2", `Start talking to ${state.character.name}`), h("p", "Write a message below."));
}

function findLastAssistant() {
  const last = state.messages.at(-1);
  return last && last.role === "assistant" ? last : null;
}

function displayName(m) {
  if (m.role === "user") return m.name || state.userName || "User";
  return m.name || state.character.name;
}

function messageView(m, isLast) {
  const user = m.role === "user";
  const incomplete = m.swipe && m.swipe.status !== "complete";
  const text = h("div.text", { "data-testid": "message-text" });
  text.innerHTML = renderMarkdown(m.display ?? m.text); // safe: renderMarkdown escapes first
  const tools = h("div.tools",
    iconButton("copy", "Copy", () => navigator.clipboard?.writeText(m.text).then(() => toast("Copied"))),
    iconButton("edit", "Edit", () => startEdit(el, m), { "data-testid": "edit" }),
    m.id ? iconButton("forward", "Branch from here", () => branchAt(m), { "data-testid": "branch" }) : null,
    m.id ? iconButton("check", "Checkpoint here", () => checkpointAt(m), { "data-testid": "checkpoint" }) : null,
    m.id !== null ? iconButton("eye", m.hidden ? "Put back into the prompt" : "Hide from the prompt", () => toggleHidden(m), { "data-testid": "hide", "aria-pressed": String(!!m.hidden) }) : null,
    iconButton("trash", "Delete", () => deleteMessage(m), { "data-testid": "delete" }));
  const via = !user && m.swipe && m.swipe.connection && (!state.connection || m.swipe.connection !== state.connection.name || m.swipe.model !== state.connection.model)
    ? h("span.via", { "data-testid": "answered-by", title: "The connection and model that wrote this reply" }, `via ${m.swipe.connection}${m.swipe.model ? " · " + m.swipe.model : ""}`) : null;
  const tokens = h("span.token-note", { "data-testid": "message-tokens" });
  if (m.id !== null) messageTokens(m.text).then((n) => { if (n !== null) tokens.textContent = `${n} token${n === 1 ? "" : "s"}`; });
  const head = h("div.head", h("span.name", displayName(m)), via,
    m.checkpoint ? h("button.badge.link", { type: "button", title: `Checkpoint: ${m.checkpoint}`, "data-testid": "checkpoint-link", on: { click: () => openChatTitled(m.checkpoint) } }, "⚑ checkpoint") : null,
    m.hidden ? h("span.badge.hidden-badge", { "data-testid": "hidden-badge", title: "Left out of the prompt; it stays in the chat" }, "hidden from the prompt") : null,
    tokens,
    incomplete ? h("span.badge.warn", { "data-testid": "incomplete", title: m.swipe.error || "The reply was cut short; Continue can finish it" }, "incomplete") : null,
    tools);
  const el = h(`div.msg${user ? ".user" : ""}${incomplete ? ".incomplete" : ""}${m.hidden ? ".hidden-msg" : ""}`, { "data-testid": "message", dataset: { id: m.id, role: m.role } },
    avatar(user ? null : avatarUrl(state.character), displayName(m), user ? "user" : ""),
    h("div.body-col", head,
      m.swipe && m.swipe.reasoning ? reasoningView(m.swipe.reasoning) : null,
      text,
      incomplete && m.swipe.error ? h("div.error-box", m.swipe.error) : null,
      !user && isLast ? swipeBar(m) : null));
  return el;
}

const tokenCache = new Map();

/** A message's token count with the connection's tokenizer (remembered per text). */
function messageTokens(text) {
  if (!tokenCache.has(text)) {
    if (tokenCache.size > 2000) tokenCache.clear();
    tokenCache.set(text, countTokens(text));
  }
  return tokenCache.get(text);
}

/** Hide a message from the prompt, or put it back; it stays in the chat either way. */
async function toggleHidden(m) {
  try {
    const updated = await api.put(`/api/messages/${m.id}/hidden`, { hidden: !m.hidden });
    state.messages[state.messages.indexOf(m)] = updated;
    drawMessages();
    toast(updated.hidden ? "Hidden from the prompt; it stays in the chat" : "Back in the prompt");
  } catch (err) {
    toast(err.message, { hint: err.hint, bad: true });
  }
}

function reasoningView(text) {
  const body = h("div");
  body.innerHTML = renderMarkdown(text);
  return h("details.reasoning", h("summary", "Reasoning"), body);
}

/** The greeting: the chat's first message, from the character, before anything the user said.
 * Its swipes are the card's greetings; swiping it never asks the LLM. */
function isGreeting(m) {
  return m.role === "assistant" && state.messages[0] === m;
}

function swipeBar(m) {
  const greeting = isGreeting(m);
  const atEnd = m.active_swipe >= m.swipe_count - 1;
  const left = iconButton("left", greeting ? "Previous greeting" : "Previous swipe", () => swipeBy(m, -1), { disabled: m.active_swipe === 0, "data-testid": "swipe-left" });
  const right = iconButton("right", greeting ? "Next greeting" : atEnd ? "New swipe" : "Next swipe", () => swipeBy(m, 1),
    { disabled: greeting && atEnd, "data-testid": "swipe-right" });
  return h("div.swipes", left, h("span", { "data-testid": "swipe-counter" }, `${m.active_swipe + 1}/${m.swipe_count}`), right);
}

/** Swipe the last reply: -1 shows the previous one, +1 the next (a new one past the end,
 * except on the greeting). Also bound to the arrow keys. */
function swipeBy(m, step) {
  if (state.generation) return;
  const index = m.active_swipe + step;
  if (index < 0) return;
  if (index < m.swipe_count) showSwipe(m, index);
  else if (!isGreeting(m)) generate("swipe");
}

/** Left and Right swipe the last reply when the focus is not in a text field or a dialog. */
document.addEventListener("keydown", (e) => {
  if (!["ArrowLeft", "ArrowRight"].includes(e.key) || e.altKey || e.ctrlKey || e.metaKey || e.shiftKey || !list || !list.isConnected) return;
  const target = e.target;
  const typing = target.matches?.("input, select, textarea, [contenteditable]") && !(target === input && !input.value);
  if (typing || document.querySelector("#modal-root > *") || document.getElementById("panel").contains(target)) return;
  const last = findLastAssistant();
  if (!last) return;
  e.preventDefault();
  swipeBy(last, e.key === "ArrowLeft" ? -1 : 1);
});

async function showSwipe(m, index) {
  if (state.generation) return;
  try {
    const updated = await api.put(`/api/messages/${m.id}/swipe`, { index });
    state.messages[state.messages.indexOf(m)] = updated;
    drawMessages();
  } catch (err) {
    toast(err.message, { hint: err.hint, bad: true });
  }
}

function startEdit(el, m) {
  const box = h("textarea", { "aria-label": "Edit message", "data-testid": "edit-box" }, m.text);
  const textEl = el.querySelector(".text");
  const editor = h("div.edit-box", box, h("div.row",
    button("Cancel", () => editor.replaceWith(textEl), { cls: "ghost small" }),
    button("Save", async () => {
      try {
        const updated = await api.patch(`/api/messages/${m.id}`, { text: box.value });
        state.messages[state.messages.indexOf(m)] = updated;
        drawMessages();
      } catch (err) {
        toast(err.message, { hint: err.hint, bad: true });
      }
    }, { cls: "primary small", "data-testid": "save-edit" })));
  textEl.replaceWith(editor);
  box.style.height = `${Math.max(110, box.scrollHeight + 4)}px`;
  box.focus();
}

async function deleteMessage(m) {
  if (!(await confirmDialog("Delete this message?", "The message and all of its swipes will be deleted."))) return;
  try {
    await api.del(`/api/messages/${m.id}`);
    state.messages = state.messages.filter((x) => x !== m);
    drawMessages();
  } catch (err) {
    toast(err.message, { hint: err.hint, bad: true });
  }
}

function scrollToEnd(force = true) {
  if (!scroller) return;
  const near = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 120;
  if (force || near) scroller.scrollTop = scroller.scrollHeight;
}

// ---------- generation ----------

function send() {
  const text = input.value;
  if (!text.trim()) {
    if (findLastAssistant()) return;
  }
  generate("send", text);
}

async function stopGeneration() {
  const generation = state.generation;
  if (generation && generation.handle) {
    sendBtn.disabled = true;
    await generation.handle.stop();
  }
}

function setBusy(busy) {
  sendBtn.classList.toggle("stop", busy);
  replace(sendBtn, icon(busy ? "stop" : "send"));
  sendBtn.title = busy ? "Stop" : "Send";
  sendBtn.setAttribute("aria-label", busy ? "Stop" : "Send");
  sendBtn.dataset.testid = busy ? "stop" : "send";
  sendBtn.disabled = false;
}

/** Run a generation in this chat: send, regenerate, swipe, continue or impersonate. */
export async function generate(mode, text = null) {
  if (state.generation || !state.chatId) return;
  const target = startTarget(mode, text);
  if (!target) return;
  const chatId = state.chatId;
  await runGeneration(chatId, mode, target, async (onEvent) => {
    const handle = await streamGeneration(chatId, { mode, text: text || null }, onEvent);
    if (handle.id) tabs?.postMessage({ chatId, id: handle.id });
    return handle;
  });
}

/** Show a generation: ``begin(onEvent)`` gives its handle; the stored chat is redrawn at the end. */
async function runGeneration(chatId, mode, target, begin) {
  const generation = { mode, chatId, handle: null };
  state.generation = generation;
  setBusy(true);
  let failed = null;
  let finished = null;
  try {
    generation.handle = await begin((kind, data) => {
      if (kind === "error") failed = data;
      else if (kind === "finished") finished = data;
      target.onEvent(kind, data);
    });
    await generation.handle.done;
  } catch (err) {
    failed = { message: err.message, hint: err.hint };
  } finally {
    target.finish();
  }
  if (state.generation !== generation) return; // the view moved on meanwhile
  if (mode !== "impersonate") await reloadMessages();
  state.generation = null;
  setBusy(false);
  if (failed) toast(failed.message, { hint: failed.hint, bad: true, ms: 9000 });
  else summarizeIfDue(chatId, finished); // in the background, when the server says it is due
}

/** Stop showing the current generation here (it goes on on the server). */
function leaveGeneration() {
  state.generation.handle?.detach();
  state.generation = null;
}

/** Re-attach to the generation running in this chat, if one is (reload, other tab). */
async function resumeGeneration() {
  if (state.generation || !state.chatId) return;
  const chatId = state.chatId;
  let chat;
  let info;
  try {
    chat = await api.get(`/api/chats/${chatId}`); // first: the stored reply lags the events
    info = (await api.get(`/api/generations?chat_id=${chatId}`)).find((g) => g.mode !== "summarize"); // a summary is no reply
  } catch {
    return; // the server is away: the stored chat stands
  }
  if (!info || info.mode === "group") return; // none running (a group turn shows in its own view)
  if (state.generation || state.chatId !== chatId || !list) return;
  state.messages = chat.messages;
  const target = attachTarget(info);
  if (!target) return;
  await runGeneration(chatId, info.mode, target, async (onEvent) => followGeneration(info.id, 0, onEvent));
}

/** Where a re-attached generation's events go; it is replayed from its first event. */
function attachTarget(info) {
  if (info.mode === "impersonate") return impersonateTarget();
  const last = state.messages.at(-1);
  const soFar = info.text.trim();
  if (info.mode === "send") {
    const ours = last && last.role === "assistant" && last.swipe.status === "incomplete" && soFar.startsWith(last.text.trim());
    if (ours && soFar) state.messages.pop();
    return startTarget("send", null);
  }
  if (!findLastAssistant()) return null;
  if (info.mode === "continue") {
    const cut = storedPartLength(last.text, info.text);
    const base = last.text.slice(0, last.text.length - cut);
    return startTarget("continue", null, base);
  }
  return startTarget(info.mode, null);
}

/** How much of the end of ``stored`` is the start of ``generated`` (a continued reply). */
function storedPartLength(stored, generated) {
  for (let n = Math.min(stored.length, generated.length); n > 0; n--) {
    if (stored.endsWith(generated.slice(0, n))) return n;
  }
  return 0;
}

const tabs = typeof BroadcastChannel === "function" ? new BroadcastChannel("pytavern-generations") : null;
if (tabs) tabs.onmessage = (event) => { if (event.data && event.data.chatId === state.chatId) resumeGeneration(); };

function comeBack() {
  if (!state.chatId || !list) return;
  if (state.generation) state.generation.handle?.refresh();
  else resumeGeneration();
}
document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible") comeBack(); });
window.addEventListener("online", comeBack);
window.addEventListener("pageshow", (event) => { if (event.persisted) comeBack(); });

async function reloadMessages() {
  try {
    const chat = await api.get(`/api/chats/${state.chatId}`);
    state.messages = chat.messages;
    drawMessages();
    scrollToEnd(false);
    state.chats = await api.get(`/api/characters/${state.character.id}/chats`);
    renderSidebar();
  } catch (err) {
    toast(err.message, { hint: err.hint, bad: true });
  }
}

function startTarget(mode, text, continueBase = null) {
  if (mode === "impersonate") return impersonateTarget();
  if (["regenerate", "swipe", "continue"].includes(mode) && !findLastAssistant()) {
    toast(`There is no reply to ${mode}`, { hint: "Send a message first", bad: true });
    return null;
  }
  if (mode === "send" && text && text.trim()) {
    state.messages.push({ id: null, role: "user", name: state.userName || "User", text, swipe: { status: "complete" }, active_swipe: 0, swipe_count: 1 });
    input.value = "";
    autosize();
    tokenLabel.textContent = "";
  }
  let base = "";
  let el;
  if (mode === "continue" || mode === "regenerate" || mode === "swipe") {
    const last = findLastAssistant();
    base = mode === "continue" ? (continueBase ?? last.text) : "";
    drawMessages();
    el = list.lastElementChild;
    el.querySelector(".swipes")?.remove();
    el.querySelector(".error-box")?.remove();
    el.classList.remove("incomplete");
    el.querySelector(".badge.warn")?.remove();
  } else {
    drawMessages();
    el = messageView({ id: null, role: "assistant", name: state.character.name, text: "", swipe: { status: "complete" }, active_swipe: 0, swipe_count: 1 }, false);
    list.querySelector(".empty")?.remove();
    list.append(el);
  }
  el.classList.add("streaming");
  el.dataset.testid = "message";
  el.querySelector(".tools")?.remove();
  scrollToEnd();
  return streamInto(el, base);
}

function streamInto(el, base) {
  const textEl = el.querySelector(".text");
  const bodyCol = el.querySelector(".body-col");
  const status = h("div.status-line", { "data-testid": "stream-status" });
  let reasoningBox = null;
  let text = base;
  let reasoning = "";
  let pending = false;
  const paint = () => {
    pending = false;
    textEl.innerHTML = renderMarkdown(text); // safe: renderMarkdown escapes first
    if (reasoningBox) reasoningBox.lastChild.innerHTML = renderMarkdown(reasoning);
    scrollToEnd(false);
  };
  const schedule = () => { if (!pending) { pending = true; requestAnimationFrame(paint); } };
  textEl.innerHTML = renderMarkdown(text);
  return {
    onEvent(kind, data) {
      if (kind === "text") { text += data.text; status.remove(); schedule(); }
      else if (kind === "reasoning") {
        reasoning += data.text;
        if (!reasoningBox) { reasoningBox = h("details.reasoning", { open: true }, h("summary", "Reasoning"), h("div")); textEl.before(reasoningBox); }
        schedule();
      } else if (kind === "status") {
        replace(status, h("span.status-dot.busy"), statusText(data));
        if (!status.isConnected) bodyCol.append(status);
      } else if (kind === "error") {
        bodyCol.append(h("div.error-box", h("strong", data.message), data.hint ? h("div", data.hint) : null));
      }
    },
    finish() { paint(); el.classList.remove("streaming"); status.remove(); },
  };
}

/** A queue status in words, each fact once: no "queue position 0", no repeated wait. */
export function statusText(data) {
  const parts = [data.message];
  const said = (data.message || "").toLowerCase();
  if (data.queue_position > 0 && !said.includes("queue")) parts.push(`${data.queue_position} ahead in the queue`);
  if (data.wait_seconds > 0 && !said.includes("wait") && !/\d+\s*s\b/.test(said)) parts.push(`about ${Math.round(data.wait_seconds)} s`);
  return parts.join(" · ");
}

function impersonateTarget() {
  const before = input.value;
  input.value = "";
  input.placeholder = `Writing as you…`;
  let text = "";
  return {
    onEvent(kind, data) {
      if (kind === "text") { text += data.text; input.value = text; autosize(); }
      else if (kind === "status") input.placeholder = data.message;
    },
    finish() {
      input.placeholder = `Message ${state.character.name}…`;
      if (!text) input.value = before;
      autosize();
      updateTokens();
      input.focus();
    },
  };
}
