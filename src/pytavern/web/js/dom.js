// Building the DOM safely: text goes in through textContent, never through HTML parsing.

const SVG_NS = "http://www.w3.org/2000/svg";

const ICONS = {
  menu: ["M3 6h18", "M3 12h18", "M3 18h18"],
  plug: ["M9 2v6", "M15 2v6", "M6 8h12v4a6 6 0 0 1-12 0z", "M12 18v4"],
  sliders: ["M4 21v-7", "M4 10V3", "M12 21v-9", "M12 8V3", "M20 21v-5", "M20 12V3", "M1 14h6", "M9 8h6", "M17 16h6"],
  book: ["M4 19.5A2.5 2.5 0 0 1 6.5 17H20", "M6.5 2H20v20H6.5A2.5 2.5 0 0 1 4 19.5v-15A2.5 2.5 0 0 1 6.5 2z"],
  users: ["M17 21v-2a4 4 0 0 0-4-4H5a4 4 0 0 0-4 4v2", "M9 3a4 4 0 1 1 0 8 4 4 0 0 1 0-8z", "M23 21v-2a4 4 0 0 0-3-3.87", "M16 3.13a4 4 0 0 1 0 7.75"],
  send: ["M22 2 11 13", "M22 2l-7 20-4-9-9-4z"],
  stop: ["M6 6h12v12H6z"],
  left: ["M15 18l-6-6 6-6"],
  right: ["M9 18l6-6-6-6"],
  edit: ["M12 20h9", "M16.5 3.5a2.12 2.12 0 0 1 3 3L7 19l-4 1 1-4z"],
  trash: ["M3 6h18", "M8 6V4h8v2", "M19 6l-1 14H6L5 6", "M10 11v6", "M14 11v6"],
  plus: ["M12 5v14", "M5 12h14"],
  upload: ["M21 15v4a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2v-4", "M17 8l-5-5-5 5", "M12 3v12"],
  download: ["M21 15v4a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2v-4", "M7 10l5 5 5-5", "M12 15V3"],
  refresh: ["M23 4v6h-6", "M20.49 15a9 9 0 1 1-2.12-9.36L23 10"],
  more: ["M12 12h.01", "M19 12h.01", "M5 12h.01"],
  close: ["M18 6 6 18", "M6 6l12 12"],
  chat: ["M21 15a2 2 0 0 1-2 2H7l-4 4V5a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2z"],
  forward: ["M5 12h14", "M12 5l7 7-7 7"],
  mask: ["M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18z", "M8 10h.01", "M16 10h.01", "M8 15s1.5 2 4 2 4-2 4-2"],
  eye: ["M1 12s4-8 11-8 11 8 11 8-4 8-11 8-11-8-11-8z", "M12 9a3 3 0 1 1 0 6 3 3 0 0 1 0-6z"],
  check: ["M20 6 9 17l-5-5"],
  copy: ["M9 9h13v13H9z", "M5 15H4a2 2 0 0 1-2-2V4a2 2 0 0 1 2-2h9a2 2 0 0 1 2 2v1"],
  search: ["M11 3a8 8 0 1 1 0 16 8 8 0 0 1 0-16z", "M21 21l-4.35-4.35"],
  user: ["M20 21v-2a4 4 0 0 0-4-4H8a4 4 0 0 0-4 4v2", "M12 3a4 4 0 1 1 0 8 4 4 0 0 1 0-8z"],
  chart: ["M3 3v18h18", "M7 16v-5", "M12 16V7", "M17 16v-8"],
};

/** An SVG icon by name. */
export function icon(name) {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("class", "icon");
  svg.setAttribute("aria-hidden", "true");
  for (const d of ICONS[name] || []) {
    const path = document.createElementNS(SVG_NS, "path");
    path.setAttribute("d", d);
    svg.append(path);
  }
  return svg;
}

/** Create an element: h("div.a.b", {attrs, on: {click}}, ...children). Strings become text. */
export function h(tag, props, ...children) {
  const [name, ...classes] = tag.split(".");
  const el = document.createElement(name || "div");
  if (classes.length) el.className = classes.join(" ");
  if (props && (typeof props !== "object" || props instanceof Node || Array.isArray(props))) {
    children.unshift(props);
    props = null;
  }
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "on") for (const [ev, fn] of Object.entries(value)) el.addEventListener(ev, fn);
    else if (key === "class") el.className += (el.className ? " " : "") + value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "value") el.value = value;
    else if (key === "checked" || key === "disabled" || key === "selected" || key === "hidden") el[key] = !!value;
    else if (key.startsWith("on")) throw new Error("use on: {} for events");
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  if (el.classList.contains("field")) linkLabel(el);
  return el;
}

let nextId = 0;

/** Tie a field's label to its control, so screen readers name the control. */
function linkLabel(field) {
  const label = field.querySelector(":scope > label");
  const control = field.querySelector(":scope input:not([type=hidden]), :scope select, :scope textarea");
  if (!label || !control || label.htmlFor) return;
  if (!control.id) control.id = `field-${++nextId}`;
  label.htmlFor = control.id;
}

/** The elements inside ``root`` that take keyboard focus, in order. */
export function focusables(root) {
  const selector = "a[href], button:not([disabled]), input:not([disabled]):not([type=hidden]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex='-1'])";
  return [...root.querySelectorAll(selector)].filter((el) => !el.hidden && el.getClientRects().length);
}

/** Keep Tab and Shift+Tab inside ``root`` (a dialog). */
export function trapFocus(root, event) {
  if (event.key !== "Tab") return;
  const items = focusables(root);
  if (!items.length) { event.preventDefault(); return; }
  const first = items[0];
  const last = items.at(-1);
  if (event.shiftKey && (document.activeElement === first || !root.contains(document.activeElement))) { event.preventDefault(); last.focus(); }
  else if (!event.shiftKey && (document.activeElement === last || !root.contains(document.activeElement))) { event.preventDefault(); first.focus(); }
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** A button with an icon (and optional label). */
export function iconButton(name, title, onClick, extra = {}) {
  const btn = h("button.icon-btn", { type: "button", title, "aria-label": title, on: { click: onClick }, ...extra });
  btn.append(icon(name));
  return btn;
}

/** A text button, optionally with an icon. */
export function button(label, onClick, { cls = "", iconName = null, ...attrs } = {}) {
  const btn = h(`button.btn${cls ? "." + cls.split(" ").join(".") : ""}`, { type: "button", on: { click: onClick }, ...attrs });
  if (iconName) btn.append(icon(iconName));
  btn.append(label);
  return btn;
}

/** Replace every child of ``el``. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** An avatar image, or the name's initial when there is no image. */
export function avatar(src, name, cls = "") {
  if (src) {
    const img = h(`img.avatar${cls ? "." + cls : ""}`, { src, alt: "", loading: "lazy" });
    img.addEventListener("error", () => img.replaceWith(initial(name, cls)), { once: true });
    return img;
  }
  return initial(name, cls);
}

function initial(name, cls) {
  return h(`span.avatar${cls ? "." + cls : ""}`, { "aria-hidden": "true" }, (name || "?").trim().charAt(0).toUpperCase() || "?");
}

/** Fill every [data-icon] placeholder in static markup. */
export function hydrateIcons(root = document) {
  for (const el of root.querySelectorAll("[data-icon]")) {
    el.prepend(icon(el.dataset.icon));
    el.removeAttribute("data-icon");
  }
}

/** A short notice at the top of the screen (never over Send or a panel's buttons); errors
 * show their hint and stay until dismissed or 9 s have passed. At most three are shown. */
export function toast(message, { hint = null, bad = false, ms = null } = {}) {
  const root = document.getElementById("toasts");
  const box = h(`div.toast${bad ? ".bad" : ""}`, { role: bad ? "alert" : "status", "data-testid": "toast" },
    h("div.toast-text", bad ? h("strong", message) : message, hint ? h("div.hint", hint) : null),
    iconButton("close", "Dismiss", () => box.remove()));
  for (const same of root.querySelectorAll("[data-testid=toast]")) if (same.textContent === box.textContent) same.remove(); // once is enough
  root.append(box);
  while (root.children.length > 3) root.firstElementChild.remove();
  setTimeout(() => box.remove(), ms ?? (bad ? 9000 : 3000));
}

/** Show a modal dialog; returns a function that closes it. The dialog takes the focus, keeps
 * Tab inside it and gives the focus back on close. ``canClose`` (async, true to close) guards
 * Escape, the close button and a click outside, e.g. to ask about unsaved edits. */
export function modal(title, body, { wide = false, footer = null, onClose = null, canClose = null } = {}) {
  const root = document.getElementById("modal-root");
  const before = document.activeElement;
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    backdrop.remove();
    document.removeEventListener("keydown", onKey, true);
    onClose?.();
    if (before && before.isConnected && !root.children.length) before.focus();
  };
  const tryClose = async () => { if (!canClose || (await canClose())) close(); };
  const onKey = (e) => {
    if (root.lastElementChild !== backdrop) return; // only the topmost dialog answers
    if (e.key === "Escape") { e.preventDefault(); e.stopPropagation(); tryClose(); }
    else trapFocus(dialog, e);
  };
  const heading = h("h2", { id: `dialog-${++nextId}` }, title);
  const dialog = h(`div.modal${wide ? ".wide" : ""}`, { role: "dialog", "aria-modal": "true", "aria-labelledby": heading.id, tabindex: "-1" },
    h("div.panel-head", heading, iconButton("close", "Close", tryClose)),
    h("div.panel-body", body),
    footer ? h("div.panel-foot", footer) : null);
  const backdrop = h("div.modal-backdrop", { on: { mousedown: (e) => { if (e.target === backdrop) tryClose(); } } }, dialog);
  root.append(backdrop);
  document.addEventListener("keydown", onKey, true);
  const field = dialog.querySelector(".panel-body input:not([type=file]), .panel-body textarea, .panel-body select");
  (field || focusables(dialog).find((el) => !el.closest(".panel-head")) || dialog).focus();
  return close;
}

/** Ask for confirmation in a modal; resolves true or false. */
export function confirmDialog(title, text, okLabel = "Delete") {
  return new Promise((resolve) => {
    let done = false;
    const finish = (value) => { if (!done) { done = true; close(); resolve(value); } };
    const close = modal(title, h("p", text), {
      footer: [h("div.spacer"), button("Cancel", () => finish(false), { cls: "ghost" }),
        button(okLabel, () => finish(true), { cls: "danger", "data-testid": "confirm" })],
      onClose: () => { if (!done) { done = true; resolve(false); } },
    });
  });
}

/** Debounce ``fn`` by ``ms``. */
export function debounce(fn, ms) {
  let timer = null;
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
}

/** Ask for one line of text in a modal; resolves the text, or null when cancelled. */
export function askText(title, value = "", okLabel = "Save") {
  return new Promise((resolve) => {
    let done = false;
    const field = h("input", { type: "text", value, "aria-label": title, "data-testid": "ask-text" });
    const finish = (result) => { if (!done) { done = true; close(); resolve(result); } };
    const close = modal(title, h("form", { on: { submit: (e) => { e.preventDefault(); finish(field.value.trim() || null); } } }, field), {
      footer: [h("div.spacer"), button("Cancel", () => finish(null), { cls: "ghost" }),
        button(okLabel, () => finish(field.value.trim() || null), { cls: "primary", "data-testid": "ask-ok" })],
      onClose: () => { if (!done) { done = true; resolve(null); } },
    });
    field.focus();
    field.select();
  });
}

/** Ask with several answers, e.g. [["save", "Save"], ["discard", "Discard"]]; resolves the
 * chosen key, or null when the dialog is dismissed. The first answer is the main one. */
export function choiceDialog(title, text, choices) {
  return new Promise((resolve) => {
    let done = false;
    const finish = (value) => { if (!done) { done = true; close(); resolve(value); } };
    const buttons = choices.map(([key, label], i) => button(label, () => finish(key), { cls: i === 0 ? "primary" : "ghost", "data-testid": `choice-${key}` }));
    const close = modal(title, h("p", text), {
      footer: [h("div.spacer"), ...buttons.reverse()],
      onClose: () => { if (!done) { done = true; resolve(null); } },
    });
  });
}

/** An error about a file, naming the file once (the server's message may name it already). */
export function withFile(filename, message) {
  return message.startsWith(filename) ? message : `${filename}: ${message}`;
}

/** Scroll to message ``id`` of the message list ``list`` and mark it for a moment (a
 * search hit), in a chat's view or a group's. */
export function focusMessage(list, id) {
  const el = list.querySelector(`[data-testid=message][data-id="${id}"]`);
  if (!el) return;
  el.scrollIntoView({ block: "center" });
  el.classList.add("found");
  setTimeout(() => el.classList.remove("found"), 2500);
}
