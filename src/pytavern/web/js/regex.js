// The regex script editor: SillyTavern's Regex extension scripts, with a live test box.

import { api } from "./api.js";
import { button, confirmDialog, debounce, h, iconButton, replace, toast } from "./dom.js";
import { state } from "./state.js";

const PLACEMENTS = [[1, "User input"], [2, "AI output"], [3, "Slash commands"], [5, "World Info"], [6, "Reasoning"]];
const SUBSTITUTE = [[0, "Don't substitute"], [1, "Raw"], [2, "Escaped"]];

function newScript() {
  return { id: crypto.randomUUID ? crypto.randomUUID() : String(Date.now()), scriptName: "New script", findRegex: "", replaceString: "", trimStrings: [], placement: [2], disabled: false, markdownOnly: false, promptOnly: false, runOnEdit: true, substituteRegex: 0, minDepth: null, maxDepth: null };
}

/** Draw the regex panel into ``root``. */
export async function renderRegexPanel(root, close) {
  const body = h("div.panel-body", { "data-testid": "regex" });
  const foot = h("div.panel-foot");
  replace(root, h("div.panel-head", h("h2", "Regex scripts"), iconButton("close", "Close", close)), body, foot);
  let scripts = [];
  let selected = 0;
  const character = state.character; // the chat's character, whose own scripts can be edited too
  let scope = "global"; // or "character"
  let allowed = false;
  const file = h("input", { type: "file", accept: ".json,application/json", hidden: true });
  file.addEventListener("change", () => importFile());

  async function reload() {
    const listed = await api.get(character ? `/api/regex?character_id=${character.id}` : "/api/regex");
    allowed = !!character && listed.allowed_characters.includes(character.id);
    scripts = listed.scripts.filter((s) => s.scope === scope).map(({ scope: _s, owner, allowed: _a, ...s }) => s);
    selected = Math.min(selected, Math.max(scripts.length - 1, 0));
    draw();
  }

  function draw() {
    const list = h("div.regex-list", { "data-testid": "regex-list" }, scripts.map((s, i) => {
      const row = h(`div.row.regex-item${i === selected ? ".active" : ""}`, { "data-testid": "regex-item" },
        h("span.grow", { on: { click: () => { selected = i; draw(); } } }, `${s.disabled ? "⏸ " : ""}${s.scriptName}`),
        iconButton("trash", "Delete script", () => removeScript(i)));
      return row;
    }));
    const scopes = character ? h("select", { "aria-label": "Scripts of", "data-testid": "regex-scope" },
      h("option", { value: "global", selected: scope === "global" }, "Global scripts"),
      h("option", { value: "character", selected: scope === "character" }, `${character.name}'s scripts`)) : null;
    scopes?.addEventListener("change", () => { scope = scopes.value; selected = 0; reload(); });
    const allowBox = h("input", { type: "checkbox", checked: allowed, "data-testid": "regex-allowed" });
    allowBox.addEventListener("change", async () => {
      await api.put(`/api/regex/characters/${character.id}/allowed`, { allowed: allowBox.checked });
      allowed = allowBox.checked;
    });
    const help = scope === "global" ? "Global scripts run in this order, on every chat." : `Kept in ${character?.name}'s card; they run after the global ones.`;
    replace(body,
      scopes ? h("div.field", scopes) : null,
      scope === "character" ? h("label.check", allowBox, `Let ${character.name}'s scripts run`) : null,
      h("div.row", h("span.muted.grow", scripts.length ? help : "No regex scripts yet."),
        iconButton("plus", "New script", addScript, { "data-testid": "regex-new" }),
        iconButton("upload", "Import a SillyTavern regex file", () => file.click(), { "data-testid": "regex-import" }),
        scripts.length ? iconButton("download", "Export as JSON", () => h("a", { href: scope === "global" ? "/api/regex/export" : `/api/regex/export?character_id=${character.id}`, download: "" }).click()) : null),
      file, list, scripts[selected] ? editor(scripts[selected]) : null);
    replace(foot, scripts.length ? [h("div.spacer"), button("Save", save, { cls: "primary", "data-testid": "regex-save" })] : []);
  }

  function editor(script) {
    const output = h("pre.regex-output", { "data-testid": "regex-test-output" });
    const sample = h("textarea", { rows: 3, placeholder: "Type a text to try the script on", "aria-label": "Test text", "data-testid": "regex-test-input" });
    const runTest = debounce(async () => {
      if (!sample.value) { output.textContent = ""; return; }
      try {
        const result = await api.post("/api/regex/test", { script, text: sample.value, character_id: character ? character.id : null });
        output.textContent = result.valid ? result.output : `The pattern ${result.pattern} is not a valid regular expression`;
        output.classList.toggle("bad", !result.valid);
      } catch (err) {
        output.textContent = err.message;
      }
    }, 150);
    sample.addEventListener("input", runTest);
    const text = (key, label, attrs = {}) => {
      const input = h("input", { type: "text", value: script[key] ?? "", "aria-label": label, ...attrs });
      input.addEventListener("input", () => { script[key] = input.value; runTest(); if (key === "scriptName") list_name(); });
      return h("div.field", h("label", label), input);
    };
    const list_name = () => { const el = body.querySelectorAll("[data-testid=regex-item] span")[selected]; if (el) el.textContent = script.scriptName; };
    const check = (key, label) => {
      const box = h("input", { type: "checkbox", checked: !!script[key], "data-testid": `regex-${key}` });
      box.addEventListener("change", () => { script[key] = box.checked; runTest(); });
      return h("label.check", box, label);
    };
    const placement = PLACEMENTS.map(([code, label]) => {
      const box = h("input", { type: "checkbox", checked: script.placement.includes(code), "data-testid": `regex-placement-${code}` });
      box.addEventListener("change", () => {
        script.placement = box.checked ? [...new Set([...script.placement, code])] : script.placement.filter((p) => p !== code);
      });
      return h("label.check", box, label);
    });
    const substitute = h("select", { "aria-label": "Macros in the pattern" }, SUBSTITUTE.map(([code, label]) => h("option", { value: code, selected: Number(script.substituteRegex) === code }, label)));
    substitute.addEventListener("change", () => { script.substituteRegex = Number(substitute.value); runTest(); });
    const trims = h("textarea", { rows: 2, "aria-label": "Trim out", placeholder: "one string per line" }, (script.trimStrings || []).join("\n"));
    trims.addEventListener("input", () => { script.trimStrings = trims.value.split("\n").filter((t) => t); runTest(); });
    const depth = (key, label) => {
      const input = h("input", { type: "number", min: -1, value: script[key] ?? "", "aria-label": label });
      input.addEventListener("input", () => { script[key] = input.value === "" ? null : Number(input.value); });
      return h("div.field.grow", h("label", label), input);
    };
    return h("div.regex-editor", { "data-testid": "regex-editor" },
      text("scriptName", "Name", { "data-testid": "regex-name" }),
      text("findRegex", "Find regex", { placeholder: "/pattern/flags", "data-testid": "regex-find" }),
      text("replaceString", "Replace with", { placeholder: "{{match}}, $1...", "data-testid": "regex-replace" }),
      h("div.field", h("label", "Trim out"), trims),
      h("div.field", h("label", "Affects"), h("div.checks", placement)),
      h("div.row", depth("minDepth", "Min depth"), depth("maxDepth", "Max depth")),
      h("div.field", h("label", "Macros in the pattern"), substitute),
      h("div.checks", check("disabled", "Disabled"), check("markdownOnly", "Only what is shown"), check("promptOnly", "Only what is sent"), check("runOnEdit", "Run on edit")),
      h("div.field", h("label", "Test"), sample, output));
  }

  function addScript() { scripts.push(newScript()); selected = scripts.length - 1; draw(); }

  async function removeScript(index) {
    if (!(await confirmDialog("Delete script", `Delete "${scripts[index].scriptName}"?`))) return;
    scripts.splice(index, 1);
    await save();
  }

  async function save() {
    try {
      if (scope === "global") await api.put("/api/regex/global", { scripts });
      else await api.put(`/api/regex/characters/${character.id}`, { scripts });
      toast("Regex scripts saved");
      await reload();
    } catch (err) {
      toast(err.message, { hint: err.hint, bad: true });
    }
  }

  async function importFile() {
    const f = file.files[0];
    if (!f) return;
    try {
      const added = await api.post(scope === "global" ? "/api/regex/import" : `/api/regex/import?character_id=${character.id}`, f);
      toast(`Imported ${added.length} script${added.length === 1 ? "" : "s"}`);
      await reload();
    } catch (err) {
      toast(`${f.name}: ${err.message}`, { hint: err.hint, bad: true });
    }
    file.value = "";
  }

  await reload();
}
