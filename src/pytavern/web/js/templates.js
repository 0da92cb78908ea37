// Template pickers for the settings panel: instruct and context templates and system-prompt
// presets, the user's stored ones and those bundled with pytavern, and a read-only view of one.

import { api } from "./api.js";
import { h, iconButton, modal } from "./dom.js";

const KINDS = { instruct: "Instruct template", context: "Context template", sysprompt: "System prompt preset" };

/** The pickers, drawn from the stored and bundled presets (``GET /api/presets``).
 * ``settings`` are the generation settings; ``queue(key, value)`` saves one;
 * ``applySystem(text)`` sets the typed system prompt (picking a preset clears it). */
export async function templatePickers(settings, queue, applySystem) {
  const presets = await api.get("/api/presets");
  const of = (kind) => presets.filter((p) => p.kind === kind);
  return [
    picker(of("instruct"), "instruct", settings.instruct_template || "", {
      first: h("option", { value: "" }, "Automatic (from the model name)"),
      onPick: (name) => queue("instruct_template", name || null),
    }),
    picker(of("context"), "context", settings.context_template || "Default", {
      onPick: (name) => queue("context_template", name),
    }),
    picker(of("sysprompt"), "sysprompt", settings.system_prompt_preset || "Neutral - Chat", {
      onPick: (name) => { queue("system_prompt_preset", name); applySystem(""); },
    }),
  ];
}

function picker(list, kind, selected, { first = null, onPick }) {
  const label = KINDS[kind];
  const known = !selected || list.some((p) => p.name === selected);
  const select = h("select.grow", { "aria-label": label, "data-testid": `pick-${kind}` },
    first,
    known ? null : h("option", { value: selected, selected: true }, `${selected} (not found; the default is used)`),
    group("Your presets", list.filter((p) => !p.bundled), selected),
    group("Bundled with pytavern", list.filter((p) => p.bundled), selected));
  const chosen = () => list.find((p) => p.name === select.value) || null;
  const view = iconButton("eye", `View the ${label.toLowerCase()}`, () => showPreset(chosen()), { "data-testid": `view-${kind}` });
  const sync = () => { view.disabled = !chosen(); };
  select.addEventListener("change", () => { sync(); onPick(select.value, chosen()); });
  sync();
  return h("div.field", h("label", label), h("div.row", select, view));
}

function group(label, list, selected) {
  if (!list.length) return null;
  return h("optgroup", { label }, list.map((p) => h("option", { value: p.name, selected: p.name === selected },
    p.shadows_bundled ? `${p.name} (yours, in place of the bundled one)` : p.name)));
}

function showPreset(preset) {
  if (!preset) return;
  const note = preset.bundled
    ? "Bundled with pytavern, read-only. Import a preset of the same name to use your own in its place."
    : preset.shadows_bundled ? "Your preset, used in place of the bundled template of the same name." : "Your preset.";
  modal(`${KINDS[preset.kind]}: ${preset.name}`, h("div", { "data-testid": "preset-view" },
    h("p.small.muted", note), h("pre.preset-data", JSON.stringify(preset.data, null, 2))), { wide: true });
}
