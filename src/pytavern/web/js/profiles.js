// The composer's profile switch: one click makes this chat use a connection profile
// (connection + model + presets) from its next turn, or the defaults again.

import { api } from "./api.js";
import { h, replace, toast } from "./dom.js";
import { off, on } from "./state.js";

/** A select of the saved profiles for chat ``chatId`` (hidden while there are none). */
export function profileSwitch(chatId) {
  const select = h("select.profile-switch", { "aria-label": "Connection profile", title: "Connection profile of this chat", "data-testid": "chat-profile", hidden: true });
  async function load() {
    try {
      const [profiles, chosen] = await Promise.all([api.get("/api/profiles"), api.get(`/api/chats/${chatId}/profile`)]);
      replace(select, h("option", { value: "" }, "Default connection"),
        ...profiles.map((p) => h("option", { value: p.name, selected: p.name === chosen.profile }, `${p.name} (${p.connection}${p.model ? " · " + p.model : ""})`)));
      select.hidden = profiles.length === 0;
    } catch {
      select.hidden = true; // profiles are optional: the chat works without them
    }
  }
  select.addEventListener("change", async () => {
    try {
      const done = await api.put(`/api/chats/${chatId}/profile`, { profile: select.value || null });
      toast(done.profile ? `This chat now uses ${done.profile}` : "This chat uses the default connection");
    } catch (err) {
      toast(err.message, { hint: err.hint, bad: true });
      load();
    }
  });
  if (chatId) {
    load();
    const refresh = () => { if (select.isConnected) load(); else off("profiles-changed", refresh); };
    on("profiles-changed", refresh);
  }
  return select;
}
