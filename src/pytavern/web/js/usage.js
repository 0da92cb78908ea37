// The usage panel: requests, tokens and cost per day (a plain SVG bar chart) and per
// connection, from GET /api/usage (the ledger `pytavern usage` reads too).

import { api } from "./api.js";
import { h, iconButton, replace, toast } from "./dom.js";

const SVG = "http://www.w3.org/2000/svg";
const RANGES = [["7d", "Last 7 days"], ["30d", "Last 30 days"], ["", "All time"]];

/** An SVG element with attributes and children. */
function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, String(value));
  for (const child of children) el.append(child);
  return el;
}

/** Tokens as a short label (12.3k, 1.2M). */
export function shortCount(n) {
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return String(n);
}

/** ``groups`` by day with the days between them that had no request, as empty days. */
export function fillDays(groups) {
  if (groups.length < 2) return groups;
  const byKey = new Map(groups.map((g) => [g.key, g]));
  const empty = (key) => ({ key, requests: 0, input_tokens: 0, output_tokens: 0, cached_tokens: 0, cost: 0 });
  const days = [];
  const day = new Date(`${groups[0].key}T12:00:00`);
  const last = groups[groups.length - 1].key;
  for (let i = 0; i < 366; i += 1) {
    const key = `${day.getFullYear()}-${String(day.getMonth() + 1).padStart(2, "0")}-${String(day.getDate()).padStart(2, "0")}`;
    days.push(byKey.get(key) || empty(key));
    if (key === last) break;
    day.setDate(day.getDate() + 1);
  }
  return days;
}

/** A bar per day: input tokens stacked under output tokens, with the day's cost. */
export function dayChart(days) {
  const width = 380, height = 170, top = 14, bottom = 28, left = 6;
  const most = Math.max(1, ...days.map((d) => d.input_tokens + d.output_tokens));
  const step = (width - left * 2) / Math.max(days.length, 1);
  const bar = Math.max(4, Math.min(36, step * 0.7));
  const scale = (height - top - bottom) / most;
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "usage-chart", role: "img", "aria-label": "Tokens per day", "data-testid": "usage-chart" });
  days.forEach((d, i) => {
    const x = left + i * step + (step - bar) / 2;
    const inH = d.input_tokens * scale, outH = d.output_tokens * scale;
    const base = height - bottom;
    const title = `${d.key}: ${d.requests} requests, ${d.input_tokens} in (${d.cached_tokens} cached), ${d.output_tokens} out, $${d.cost.toFixed(4)}`;
    chart.append(svg("g", { "data-testid": "usage-day" }, svg("title", {}, title),
      svg("rect", { class: "bar-in", x, y: base - inH, width: bar, height: inH }),
      svg("rect", { class: "bar-out", x, y: base - inH - outH, width: bar, height: outH }),
      svg("text", { x: x + bar / 2, y: base - inH - outH - 3, "text-anchor": "middle" }, shortCount(d.input_tokens + d.output_tokens)),
      svg("text", { x: x + bar / 2, y: height - bottom + 12, "text-anchor": "middle" }, d.key.slice(5)),
      svg("text", { x: x + bar / 2, y: height - bottom + 24, "text-anchor": "middle" }, d.cost ? `$${d.cost.toFixed(2)}` : "")));
  });
  return chart;
}

function totalsTable(groups, total) {
  const row = (g) => h("tr", h("td", g.key), h("td", String(g.requests)), h("td", String(g.failed)),
    h("td", shortCount(g.input_tokens)), h("td", shortCount(g.cached_tokens)), h("td", shortCount(g.output_tokens)),
    h("td", `$${g.cost.toFixed(4)}${g.unpriced ? "*" : ""}`));
  return h("table.usage-table", { "data-testid": "usage-table" },
    h("thead", h("tr", ...["Connection", "Requests", "Failed", "In", "Cached", "Out", "Cost"].map((t) => h("th", t)))),
    h("tbody", ...groups.map(row), row({ ...total, key: "Total" })));
}

/** Render the usage panel into ``root``. */
export function renderUsagePanel(root, close) {
  const range = h("select", { "aria-label": "Period", "data-testid": "usage-range" },
    ...RANGES.map(([value, label]) => h("option", { value }, label)));
  const body = h("div", { "data-testid": "usage-body" }, "Loading…");
  async function load() {
    const since = range.value ? `?since=${encodeURIComponent(range.value)}&` : "?";
    try {
      const [days, conns] = await Promise.all([
        api.get(`/api/usage${since}by=day`), api.get(`/api/usage${since}by=connection`)]);
      if (!days.requests.length) { replace(body, h("p.muted", "No requests yet.")); return; }
      const last = days.requests[days.requests.length - 1];
      replace(body, dayChart(fillDays(days.groups)), h("div.usage-scroll", totalsTable(conns.groups, conns.total)),
        h("p.small.muted", `Last: ${last.connection} · ${last.model || "?"} · ${last.outcome}` +
          (last.ttft != null ? ` · first token after ${last.ttft.toFixed(2)} s` : "")),
        conns.total.unpriced ? h("p.small.muted", "* some models have no price; add them to prices.json in the data folder") : null);
    } catch (err) {
      toast(err.message, { hint: err.hint, bad: true });
      replace(body, h("p.muted", err.message));
    }
  }
  range.addEventListener("change", load);
  replace(root,
    h("div.panel-head", h("h2", "Usage"), iconButton("close", "Close", close)),
    h("div.panel-body", { "data-testid": "usage-panel" }, h("div.field", h("label", "Period"), range), body));
  load();
}
