// Group chats: the Groups panel (create, edit members and settings, import/export) and the
// group chat view (#/group/<id>): send, pick a member to answer, auto-mode, the chat's
// settings and summary. A turn runs on
// the server as one generation: each member's reply shows as it is written, and a view
// opened during a turn waits for it.

import { api, followGeneration, streamFrom } from "./api.js";
import { chatSettings, summarizeIfDue } from "./chatsettings.js";
import { avatar, button, confirmDialog, focusMessage, h, icon, iconButton, replace, toast } from "./dom.js";
import { renderMarkdown } from "./markdown.js";
import { emit, avatarUrl } from "./state.js";

const STRATEGIES = [["natural", "Natural order (mentions, talkativeness)"], ["list", "List order (everyone, in turn)"], ["manual", "Manual (you pick who answers)"], ["pooled", "Pooled (who has not spoken yet)"]];
const MODES = [["swap", "Swap character cards"], ["join", "Join character cards"], ["join-muted", "Join cards, muted members too"]];
const main = () => document.getElementById("main");
let autoTimer = null;
let shownGroup = null; // the group view on screen: {id, byName}

function select(options, value, attrs) {
  return h("select", attrs, options.map(([v, label]) => h("option", { value: v, selected: v === value }, label)));
}

function fail(err) { toast(err.message, { hint: err.hint, bad: true }); }

/** Draw the Groups panel into ``root``. */
export async function renderGroupsPanel(root, close) {
  const body = h("div.panel-body", { "data-testid": "groups" });
  replace(root, h("div.panel-head", h("h2", "Groups"), iconButton("close", "Close", close)), body);
  const file = h("input", { type: "file", accept: ".json,.jsonl", multiple: true, hidden: true });
  file.addEventListener("change", () => importGroup(file.files).then(draw, fail));

  async function draw() {
    const [groups, characters] = await Promise.all([api.get("/api/groups"), api.get("/api/characters")]);
    replace(body,
      createForm(characters, draw),
      h("div.row", h("h3.grow", "Your groups"), iconButton("upload", "Import a SillyTavern group (.json, with its .jsonl chat)", () => file.click(), { "data-testid": "group-import" })),
      file,
      groups.length ? groups.map((g) => groupBox(g, characters, draw)) : h("p.small.muted", "No groups yet."));
  }
  await draw().catch(fail);
}

function createForm(characters, redraw) {
  const name = h("input", { type: "text", placeholder: "Group name", "aria-label": "Group name", "data-testid": "group-name" });
  const boxes = characters.map((c) => [c, h("input", { type: "checkbox", value: String(c.id), "data-testid": `group-pick-${c.id}` })]);
  const strategy = select(STRATEGIES, "natural", { "aria-label": "Who answers", "data-testid": "group-strategy" });
  const create = async () => {
    const members = boxes.filter(([, box]) => box.checked).map(([c]) => c.id);
    try {
      const group = await api.post("/api/groups", { name: name.value.trim(), members, strategy: strategy.value });
      toast(`Created ${group.name}`);
      emit("navigate", `#/group/${group.id}`);
      await redraw();
    } catch (err) { fail(err); }
  };
  return h("div.card-box", h("h3", "New group"),
    h("div.field", name),
    h("div.field", h("label", "Members"), boxes.map(([c, box]) => h("label.check", box, c.name))),
    h("div.field", h("label", "Who answers"), strategy),
    button("Create group", create, { cls: "primary small", "data-testid": "group-create" }));
}

function groupBox(group, characters, redraw) {
  const change = async (body) => {
    try {
      await api.patch(`/api/groups/${group.id}`, body);
      await redraw();
      await refreshGroupSidebar();
    } catch (err) { fail(err); }
  };
  const strategy = select(STRATEGIES, group.activation_strategy, { "aria-label": "Who answers" });
  strategy.addEventListener("change", () => change({ strategy: strategy.value }));
  const mode = select(MODES, group.generation_mode, { "aria-label": "Cards" });
  mode.addEventListener("change", () => change({ generation_mode: mode.value }));
  const others = characters.filter((c) => !group.members.some((m) => m.character_id === c.id));
  const add = h("select", { "aria-label": "Add a member", "data-testid": "group-add" }, h("option", { value: "" }, "Add a member…"), others.map((c) => h("option", { value: String(c.id) }, c.name)));
  add.addEventListener("change", () => add.value && change({ add: [Number(add.value)] }));
  const members = group.members.map((m) => h("div.row", { "data-testid": "group-member" },
    h("span.grow", m.name, m.muted ? h("span.badge", " muted") : null),
    button(m.muted ? "Unmute" : "Mute", () => change(m.muted ? { unmute: [m.character_id] } : { mute: [m.character_id] }), { cls: "ghost small", "data-testid": "group-mute" }),
    iconButton("trash", "Remove from the group", () => change({ remove: [m.character_id] }))));
  return h("div.card-box", { "data-testid": "group-box" },
    h("div.row", h("h3.grow", group.name),
      button("Open chat", () => emit("navigate", `#/group/${group.id}`), { cls: "primary small", "data-testid": "group-open" }),
      iconButton("download", "Export (SillyTavern JSON + chat JSONL)", () => exportGroup(group)),
      iconButton("trash", "Delete group", async () => {
        if (await confirmDialog("Delete group", `Delete ${group.name}? Its chat stays.`)) {
          try { await api.del(`/api/groups/${group.id}`); await redraw(); } catch (err) { fail(err); }
        }
      })),
    members, add,
    h("div.field", h("label", "Who answers"), strategy),
    h("div.field", h("label", "Cards"), mode));
}

function saveFile(href, name) {
  const a = h("a", { href, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
}

function exportGroup(group) {
  saveFile(`/api/groups/${group.id}/export`, `${group.name}.json`);
  saveFile(`/api/groups/${group.id}/export/chat`, `${group.name}.jsonl`);
}

async function importGroup(files) {
  const list = [...files];
  const json = list.find((f) => f.name.endsWith(".json"));
  const jsonl = list.find((f) => f.name.endsWith(".jsonl"));
  if (!json) throw new Error("pick the group's .json file (and its .jsonl chat)");
  const group = JSON.parse(await json.text());
  const made = await api.post("/api/groups/import", { group, chat: jsonl ? await jsonl.text() : null, filename: json.name });
  toast(`Imported ${made.name}`);
}

/** The group whose chat ``chatId`` is, or null. */
export async function groupOfChat(chatId) {
  const groups = await api.get("/api/groups");
  return groups.find((g) => g.chat_id === chatId) || null;
}

/** The group chat view, scrolled to message ``focusId`` when given (a search hit). */
export async function openGroupView(groupId, focusId = null) {
  stopAuto();
  const group = await api.get(`/api/groups/${groupId}`);
  let chat = await api.get(`/api/chats/${group.chat_id}`);
  if (focusId !== null && !chat.messages.some((m) => m.id === focusId)) {
    chat = await api.get(`/api/chats/${group.chat_id}?limit=5000`); // an older message: load further back
  }
  const byName = new Map();
  for (const m of group.members) byName.set(m.name, await api.get(`/api/characters/${m.character_id}`));
  replace(document.getElementById("topbar-title"), icon("users"), h("strong", { "data-testid": "group-title" }, group.name),
    h("span.small.muted.group-members", `· ${group.members.map((m) => m.name).join(", ")}`));
  const list = h("div.messages-inner", { "data-testid": "messages" });
  const scroller = h("div.messages", list);
  const drawMessages = (messages) => {
    replace(list, messages.map((m) => messageView(m, byName)));
    scroller.scrollTop = scroller.scrollHeight;
  };
  const reload = async () => drawMessages((await api.get(`/api/chats/${group.chat_id}`)).messages);
  const input = h("textarea", { rows: 1, placeholder: `Message ${group.name}…`, "aria-label": "Message", "data-testid": "input" });
  const busy = (on) => { sendBtn.disabled = on; document.body.dataset.groupBusy = on ? "1" : ""; };
  let live = null; // the reply being written: {text, el}
  /** Drop the stored replies after message ``id``: the turn's events show them instead
   * (a reply replayed after a reload, the message a swipe replaces). */
  const dropStoredAfter = (id) => {
    for (const el of list.querySelectorAll("[data-role=assistant]")) if (Number(el.dataset.id) > id) el.remove();
  };
  const showEvent = (kind, data) => {
    if (kind === "status" && data.speaker) {
      if (data.after_id != null) dropStoredAfter(data.after_id);
      const prefix = data.prefix || ""; // a continue: the reply it extends, as it was
      live = { text: prefix, el: messageView({ role: "assistant", name: data.speaker, text: prefix }, byName) };
      live.el.dataset.live = "1";
      list.append(live.el);
    } else if (kind === "text" && live) {
      live.text += data.text;
      live.el.querySelector("[data-testid=message-text]").textContent = live.text;
    } else return;
    scroller.scrollTop = scroller.scrollHeight;
  };
  /** Run a group turn on the server and show each member's reply as it is written. */
  const follow = async (begin) => {
    busy(true);
    let failed = null;
    let finished = null;
    try {
      const handle = await begin((kind, data) => {
        if (kind === "error") failed = data;
        else if (kind === "finished") finished = data;
        showEvent(kind, data);
      });
      await handle.done;
    } catch (err) {
      failed = { message: err.message, hint: err.hint };
    } finally {
      live = null;
      await reload().catch(() => {});
      busy(false);
    }
    if (failed) toast(failed.message, { hint: failed.hint, bad: true });
    else summarizeIfDue(group.chat_id, finished); // in the background, when the server says
  };
  const run = (action, body) => follow((onEvent) => streamFrom(`/api/groups/${group.id}/generate`, { action, ...body }, onEvent));
  const send = async () => {
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    list.append(messageView({ role: "user", name: "", text }, byName)); // shown at once
    scroller.scrollTop = scroller.scrollHeight;
    await run("send", { text });
  };
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); send(); }
  });
  const sendBtn = h("button.icon-btn.send", { type: "button", title: "Send", "aria-label": "Send", "data-testid": "send", on: { click: send } }, icon("send"));
  const speakers = h("div.row.group-speakers", { "data-testid": "group-speakers" }, h("span.small.muted", "Ask to answer:"),
    group.members.map((m) => button(m.name, () => run("trigger", { member: m.character_id }), { cls: "ghost small", "data-testid": "group-trigger" })),
    button("Swipe", () => run("redo", { mode: "swipe" }), { cls: "ghost small", iconName: "refresh", "data-testid": "group-swipe" }),
    button("Continue", () => run("redo", { mode: "continue" }), { cls: "ghost small", iconName: "forward", "data-testid": "group-continue" }));
  const auto = h("input", { type: "checkbox", "data-testid": "group-auto" });
  auto.addEventListener("change", () => {
    stopAuto();
    if (auto.checked) autoTimer = setInterval(() => { if (!sendBtn.disabled) run("send", { text: null }); }, group.auto_mode_delay * 1000);
  });
  const composer = h("div.composer", h("div.composer-inner", speakers,
    h("div.composer-box", input, sendBtn),
    h("div.composer-meta", h("label.check.small", auto, `Auto-mode (every ${group.auto_mode_delay}s)`),
      h("div.spacer"), h("span.small.muted", { "data-testid": "group-strategy-label" }, `${group.activation_strategy} order`))));
  replace(main(), scroller, composer);
  drawMessages(chat.messages);
  if (focusId !== null) focusMessage(list, focusId);
  shownGroup = { id: group.id, byName };
  renderGroupSidebar(group, byName).catch(() => {});
  window.addEventListener("hashchange", stopAuto, { once: true });
  const [running] = await api.get(`/api/generations?chat_id=${group.chat_id}`).catch(() => []);
  if (running && running.mode === "group") {
    // a turn began before this view (a reload, another tab): its events are replayed from
    // the first, each member's stored reply giving way to the replayed one (after_id)
    await follow((onEvent) => followGeneration(running.id, 0, onEvent));
  }
}

/** Whether the page shows group ``id``'s view (at a message or not). */
const onGroupView = (id) => new RegExp(`^#/group/${id}(/m/\\d+)?$`).test(location.hash);

/** Draw the open group view's sidebar again (its group was changed in the panel). */
async function refreshGroupSidebar() {
  if (!shownGroup || !onGroupView(shownGroup.id)) return;
  await renderGroupSidebar(await api.get(`/api/groups/${shownGroup.id}`), shownGroup.byName);
}

/** The sidebar of a group's view: its members (each opens its character), the group's
 * settings and export, and the other groups to switch to. */
async function renderGroupSidebar(group, byName) {
  const groups = await api.get("/api/groups");
  const members = group.members.map((m) => {
    const character = byName.get(m.name);
    return h("div.chat-item", { "data-testid": "group-side-member", on: { click: () => emit("navigate", `#/character/${m.character_id}`) } },
      avatar(character ? avatarUrl(character) : null, m.name),
      h("div.title", h("a", { href: `#/character/${m.character_id}`, on: { click: (e) => e.stopPropagation() } }, m.name),
        m.muted ? h("div.meta", "muted") : null));
  });
  const others = groups.map((g) => h(`div.chat-item${g.id === group.id ? ".active" : ""}`,
    { "data-testid": "group-side-item", on: { click: () => emit("navigate", `#/group/${g.id}`) } },
    icon("users"), h("div.title", h("a", { href: `#/group/${g.id}`, "aria-current": g.id === group.id ? "page" : null, on: { click: (e) => e.stopPropagation() } }, g.name),
      h("div.meta", g.members.map((m) => m.name).join(", ")))));
  if (!onGroupView(group.id)) return; // the user has moved on
  replace(document.getElementById("sidebar"),
    h("div.side-head", h("span.avatar.initial", icon("users")), h("div.who", h("strong", group.name), h("span", `${group.members.length} member${group.members.length === 1 ? "" : "s"}`))),
    h("div.side-actions", button("Edit group", () => emit("panel", "groups"), { cls: "small", iconName: "edit", "data-testid": "group-edit" }),
      button("Chat settings", () => chatSettings(group.chat_id, { characters: group.members.map((m) => ({ id: m.character_id, name: m.name })) }), { cls: "small", iconName: "sliders", title: "This chat's lorebook, author's note, summary and Data Bank", "data-testid": "group-chat-settings" }),
      button("Export", () => exportGroup(group), { cls: "small", iconName: "download", title: "Export (SillyTavern JSON + chat JSONL)" })),
    h("div.section-label", "Members"), h("div.chat-list.members", { "data-testid": "group-side-members" }, members),
    h("div.section-label", "Groups"), h("div.chat-list", others));
}

function stopAuto() {
  if (autoTimer !== null) clearInterval(autoTimer);
  autoTimer = null;
}

function messageView(m, byName) {
  const user = m.role === "user";
  const character = byName.get(m.name);
  const text = h("div.text", { "data-testid": "message-text" });
  text.innerHTML = renderMarkdown(m.text); // safe: renderMarkdown escapes first
  return h(`div.msg${user ? ".user" : ""}`, { "data-testid": "message", dataset: { id: m.id, role: m.role, speaker: m.name } },
    avatar(user || !character ? null : avatarUrl(character), m.name || (user ? "You" : "?"), user ? "user" : ""),
    h("div.body-col", h("div.head", h("span.name", { "data-testid": "speaker" }, m.name || (user ? "You" : ""))), text));
}
