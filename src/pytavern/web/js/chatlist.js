// The sidebar of the chat view: the character's chats (new, import, export, rename,
// delete) and the links to the chat's main chat, branches and checkpoints; and the chat's
// name in the top bar.

import { api } from "./api.js";
import { askText, avatar, button, confirmDialog, h, icon, iconButton, replace, toast } from "./dom.js";
import { withFile } from "./dom.js";
import { state, emit, avatarUrl } from "./state.js";

/** Show the character and the chat's name in the top bar. */
export function renderTitle(chat) {
  const c = state.character;
  replace(document.getElementById("topbar-title"), avatar(avatarUrl(c), c.name), h("strong", c.name),
    h("span.small.muted", { "data-testid": "chat-title" }, `· ${chatLabel(chat)}`));
}

/** Draw the sidebar: the character and its chats. */
export function renderSidebar() {
  const c = state.character;
  if (!c) return;
  const chatPicker = h("input", { type: "file", accept: ".jsonl,application/jsonl", hidden: true });
  chatPicker.addEventListener("change", async () => {
    const f = chatPicker.files[0];
    if (!f) return;
    try {
      const chat = await api.post(`/api/characters/${c.id}/chats/import?filename=${encodeURIComponent(f.name)}`, f);
      toast(`Imported ${chat.title}`);
      emit("navigate", `#/chat/${chat.id}`);
    } catch (err) {
      toast(withFile(f.name, err.message), { hint: err.hint, bad: true });
    }
  });
  const items = state.chats.map((chat) => h(`div.chat-item${chat.id === state.chatId ? ".active" : ""}`,
    { "data-testid": "chat-item", on: { click: () => emit("navigate", `#/chat/${chat.id}`) } },
    icon("chat"), h("div.title", h("a", { href: `#/chat/${chat.id}`, "data-testid": "chat-link", "aria-current": chat.id === state.chatId ? "page" : null, on: { click: (e) => e.stopPropagation() } }, chatLabel(chat)), h("div.meta", `${chat.message_count} message${chat.message_count === 1 ? "" : "s"} · ${when(chat.updated_at)}`)),
    iconButton("download", "Export chat (JSONL)", (e) => { e.stopPropagation(); h("a", { href: `/api/chats/${chat.id}/export`, download: "" }).click(); }),
    iconButton("edit", "Rename chat", (e) => { e.stopPropagation(); renameChat(chat); }),
    iconButton("trash", "Delete chat", (e) => { e.stopPropagation(); deleteChat(chat); })));
  replace(document.getElementById("sidebar"),
    h("div.side-head", avatar(avatarUrl(c), c.name), h("div.who", h("strong", c.name), h("span", `${state.chats.length} chat${state.chats.length === 1 ? "" : "s"}`))),
    h("div.side-actions", button("New chat", newChat, { cls: "primary small", iconName: "plus", "data-testid": "new-chat" }),
      button("Import", () => chatPicker.click(), { cls: "small", iconName: "upload", title: "Import a SillyTavern chat (JSONL)" }), chatPicker),
    linksView(),
    h("div.section-label", "Chats"), h("div.chat-list", items));
}

/** The chat this one was branched from, and its branches and checkpoints. */
function linksView() {
  const links = state.links;
  if (!links || (!links.main && !links.children.length)) return null;
  const open = (id) => emit("navigate", `#/chat/${id}`);
  return h("div.chat-links", { "data-testid": "chat-links" },
    links.main ? button("Back to main chat", () => open(links.main.id), { cls: "small", iconName: "left", title: links.main.title, "data-testid": "back-to-main" }) : null,
    links.children.length ? h("div.section-label", "Branches & checkpoints") : null,
    links.children.map((c) => h("div.chat-item", { "data-testid": "link-item", on: { click: () => open(c.id) } },
      icon(c.kind === "branch" ? "forward" : "check"), h("div.title", c.title))));
}

/** A chat's name everywhere (sidebar, title bar, dialogs): its title once renamed, else
 * "Chat N" numbered by creation, so names never shift when another chat changes. */
export function chatLabel(chat) {
  if (chat.title && chat.title !== state.character.name) return chat.title;
  const ids = state.chats.map((c) => c.id).sort((a, b) => a - b);
  const index = ids.indexOf(chat.id);
  return `Chat ${index < 0 ? ids.length + 1 : index + 1}`;
}

function when(iso) {
  const date = new Date(iso.endsWith("Z") || iso.includes("+") ? iso : iso + "Z");
  const days = Math.floor((Date.now() - date.getTime()) / 86400000);
  if (days < 1) return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  return days < 7 ? `${days}d ago` : date.toLocaleDateString();
}

export async function newChat() {
  try {
    const chat = await api.post(`/api/characters/${state.character.id}/chats`);
    emit("navigate", `#/chat/${chat.id}`);
  } catch (err) {
    toast(err.message, { hint: err.hint, bad: true });
  }
}

async function renameChat(chat) {
  const title = await askText("Rename chat", chatLabel(chat));
  if (!title) return;
  try {
    await api.patch(`/api/chats/${chat.id}`, { title });
    state.chats = await api.get(`/api/characters/${state.character.id}/chats`);
    renderSidebar();
    if (chat.id === state.chatId) renderTitle(state.chats.find((c) => c.id === chat.id) || { ...chat, title });
  } catch (err) {
    toast(err.message, { hint: err.hint, bad: true });
  }
}

async function deleteChat(chat) {
  if (!(await confirmDialog("Delete this chat?", `“${chatLabel(chat)}” and its ${chat.message_count} messages will be deleted.`))) return;
  await api.del(`/api/chats/${chat.id}`);
  if (chat.id === state.chatId) emit("navigate", `#/character/${state.character.id}`);
  else { state.chats = state.chats.filter((c) => c.id !== chat.id); renderSidebar(); }
}
