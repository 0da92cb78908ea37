// A small, safe markdown renderer for chat messages.
// Safety: the whole input is HTML-escaped FIRST; formatting then only adds fixed tags
// (no attributes taken from the text except an escaped http(s) link target).

const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Escape text for HTML. */
export function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

/** Render markdown ``source`` to an HTML string that is safe to assign to innerHTML. */
export function renderMarkdown(source) {
  const stash = [];
  const keep = (html) => `\u0000${stash.push(html) - 1}\u0000`;
  let text = escapeHtml(String(source || "").replace(/\u0000/g, "").replace(/\r\n?/g, "\n"));
  text = text.replace(/```([\w+-]*)\n?([\s\S]*?)(```|$)/g, (_m, _lang, code) => keep(`<pre><code>${code.replace(/\n$/, "")}</code></pre>`));
  text = text.replace(/`([^`\n]+)`/g, (_m, code) => keep(`<code>${code}</code>`));
  const html = blocks(text).join("");
  return html.replace(/\u0000(\d+)\u0000/g, (_m, i) => stash[Number(i)]);
}

function blocks(text) {
  const out = [];
  const lines = text.split("\n");
  let para = [];
  const flush = () => { if (para.length) { out.push(`<p>${para.map(inline).join("<br>")}</p>`); para = []; } };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (!line.trim()) { flush(); continue; }
    if (/^\u0000\d+\u0000$/.test(line.trim()) && line.includes("\u0000")) { flush(); out.push(line.trim()); continue; }
    const heading = /^(#{1,3})\s+(.*)$/.exec(line);
    if (heading) { flush(); const n = heading[1].length; out.push(`<h${n}>${inline(heading[2])}</h${n}>`); continue; }
    if (/^(\*{3,}|-{3,}|_{3,})\s*$/.test(line)) { flush(); out.push("<hr>"); continue; }
    if (/^&gt;\s?/.test(line)) {
      flush();
      const quoted = [];
      while (i < lines.length && /^&gt;\s?/.test(lines[i])) quoted.push(lines[i++].replace(/^&gt;\s?/, ""));
      i--;
      out.push(`<blockquote>${blocks(quoted.join("\n")).join("")}</blockquote>`);
      continue;
    }
    const listMatch = /^(\s*)([-*+]|\d+[.)])\s+/.exec(line);
    if (listMatch) {
      flush();
      const ordered = /\d/.test(listMatch[2]);
      const items = [];
      while (i < lines.length && /^\s*([-*+]|\d+[.)])\s+/.test(lines[i])) items.push(lines[i++].replace(/^\s*([-*+]|\d+[.)])\s+/, ""));
      i--;
      const tag = ordered ? "ol" : "ul";
      out.push(`<${tag}>${items.map((item) => `<li>${inline(item)}</li>`).join("")}</${tag}>`);
      continue;
    }
    para.push(line);
  }
  flush();
  return out;
}

function inline(text) {
  return text
    .replace(/\*\*(?=\S)([\s\S]*?\S)\*\*/g, "<strong>$1</strong>")
    .replace(/__(?=\S)([\s\S]*?\S)__/g, "<strong>$1</strong>")
    .replace(/(^|[^*\w])\*(?=\S)([^*]*?\S)\*(?!\*)/g, "$1<em>$2</em>")
    .replace(/(^|[^_\w])_(?=\S)([^_]*?\S)_(?![_\w])/g, "$1<em>$2</em>")
    .replace(/~~(?=\S)([\s\S]*?\S)~~/g, "<del>$1</del>")
    .replace(/(&quot;|“)([^\n]*?)(&quot;|”)/g, '<span class="q">$1$2$3</span>')
    .replace(/\bhttps?:\/\/[^\s<>"\u0000]+?(?=[.,;:!?)]*(\s|$|&quot;|&lt;|&gt;|&#39;))/g,
      (url) => `<a href="${url}" target="_blank" rel="noopener noreferrer nofollow">${url}</a>`);
}
