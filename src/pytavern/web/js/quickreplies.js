// Quick replies: a row of buttons above the input, from the SillyTavern sets that show.

import { api } from "./api.js";
import { h, replace, toast } from "./dom.js";

/**
 * Draw the buttons into ``bar``. ``chat`` gives what the steps need: ``chatId()``,
 * ``input`` (the textarea), ``generate(mode)`` (resolves when the reply is stored),
 * ``reload()`` (redraw the stored chat) and ``busy()``.
 */
export async function drawQuickReplies(bar, chat) {
  let sets = [];
  try {
    sets = (await api.get("/api/quick-replies")).filter((s) => s.active && s.replies.length);
  } catch (err) {
    toast(err.message, { hint: err.hint, bad: true });
  }
  bar.hidden = !sets.length;
  replace(bar, sets.flatMap((set) => set.replies.map((reply) =>
    h("button.qr", { type: "button", title: reply.problem || reply.title || reply.message, disabled: !!reply.problem, "data-testid": "quick-reply", on: { click: () => press(set.name, reply.id, chat) } }, reply.label || "…"))));
}

async function press(setName, id, chat) {
  if (chat.busy()) return;
  const chatId = chat.chatId();
  try {
    const { steps } = await api.post(`/api/chats/${chatId}/quick-reply`, { set: setName, id, input: chat.input.value });
    for (const step of steps) {
      if (chat.chatId() !== chatId) return; // the user went elsewhere
      await runStep(step, chat, chatId);
    }
  } catch (err) {
    toast(err.message, { hint: err.hint, bad: true, ms: 9000 });
  }
}

async function runStep(step, chat, chatId) {
  switch (step.command) {
    case "send":
      await api.post(`/api/chats/${chatId}/messages`, { text: step.text });
      await chat.reload();
      break;
    case "setinput":
      chat.input.value = step.text;
      chat.input.dispatchEvent(new Event("input"));
      chat.input.focus();
      break;
    case "trigger":
      await chat.generate("send");
      break;
    default: // continue, swipe, impersonate
      await chat.generate(step.command);
  }
}

/** Import a SillyTavern quick-reply file chosen by the user; resolves when stored. */
export async function importQuickReplies(file) {
  const made = await api.post("/api/quick-replies/import", file);
  toast(`Imported quick replies "${made.name}"`);
}
