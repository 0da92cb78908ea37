// "Your data": the last backup, "back up now" and "download everything".

import { api } from "./api.js";
import { button, h, replace, toast } from "./dom.js";

function describe(latest) {
  if (!latest) return "No backup yet.";
  const when = new Date(latest.created).toLocaleString();
  const size = (latest.bytes / 1024).toFixed(0);
  return `Last backup: ${when} (${latest.path}, ${size} KB).`;
}

/** The "Your data" tab of the settings panel. */
export async function dataTab() {
  const wrap = h("div", { "data-testid": "your-data" });
  const draw = (info) => {
    const backupBox = info.allowed
      ? h("div.card-box", h("h3", "Backups"),
          h("p.small", { "data-testid": "last-backup" }, describe(info.latest)),
          h("p.small.muted", `Automatic backups run daily and before each upgrade; the newest ${info.keep} are kept in the data folder's backups/.`),
          button("Back up now", async (event) => {
            event.target.disabled = true;
            try {
              await api.post("/api/backups");
              toast("Backup made");
              draw(await api.get("/api/backups"));
            } catch (err) {
              toast(err.message, { hint: err.hint, bad: true });
              event.target.disabled = false;
            }
          }, { cls: "primary small", "data-testid": "backup-now" }))
      : h("div.card-box", h("h3", "Backups"), h("p.small.muted", "An administrator backs up the server's database."));
    const download = h("a.btn.small", { href: "/api/export/sillytavern.zip", download: "pytavern-sillytavern.zip", "data-testid": "download-everything" }, "Download everything");
    replace(wrap, backupBox,
      h("div.card-box", h("h3", "Download everything"),
        h("p.small.muted", "Your characters, chats, lorebooks, presets and personas as a SillyTavern data folder (zip)."),
        download));
  };
  draw(await api.get("/api/backups"));
  return wrap;
}
