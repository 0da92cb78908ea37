// The HTTP API client: JSON calls with pytavern's error shape, and SSE over fetch.

/** An error answered by the server: message, hint, type, status. */
export class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || `request failed (${status})`);
    this.status = status;
    this.type = error.type || "HTTPError";
    this.hint = webHint(error.hint || null);
    this.retryable = !!error.retryable;
  }
}

// The server's hints are written for every face; in a command they point at the terminal.
// Here they point at the place in this UI that does the same.
const WEB_PLACES = [
  [/`pytavern connections (add|default)[^`]*`/, "Open Connection in the top bar and set it there"],
  [/`pytavern characters import[^`]*`/, "Import a card under Characters"],
  [/`pytavern chats list[^`]*`/, "Pick a chat in the sidebar"],
  [/`pytavern lorebooks list[^`]*`/, "Pick one under World Info"],
  [/`pytavern users list[^`]*`/, "Ask the server's administrator for the user list"],
  [/`pytavern doctor[^`]*`/, "Check the free disk space where pytavern runs, and ask whoever runs it to check its data"],
];

/** A hint as this UI says it: terminal commands become the UI's own places. */
export function webHint(hint) {
  if (!hint) return hint;
  const sentences = hint.split(/(?<=\.)\s+/);
  return sentences.map((sentence) => {
    const found = WEB_PLACES.find(([command]) => command.test(sentence));
    return found ? found[1] + (sentence.trim().endsWith(".") ? "." : "") : sentence;
  }).join(" ");
}

let csrfToken = null;
let onLoginRequired = () => {};

/** Remember the session's CSRF token (sent with every state-changing request). */
export function setCsrf(token) { csrfToken = token; }

/** What to do when the server says the user must log in. */
export function setLoginHandler(fn) { onLoginRequired = fn; }

function headersFor(method) {
  const headers = {};
  if (csrfToken && method !== "GET") headers["X-CSRF-Token"] = csrfToken;
  return headers;
}

async function failure(response, path = "") {
  let payload = null;
  try { payload = await response.json(); } catch { /* not JSON */ }
  const error = new ApiError(response.status, payload);
  if (error.type === "LoginRequiredError" && !path.startsWith("/api/auth/")) onLoginRequired();
  return error;
}

async function call(method, path, body, { raw = false } = {}) {
  const init = { method, headers: headersFor(method) };
  if (body instanceof Blob || body instanceof ArrayBuffer) {
    init.body = body;
    init.headers["Content-Type"] = body.type || "application/octet-stream";
  } else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (err) {
    throw new ApiError(0, { error: { message: "the pytavern server cannot be reached", hint: "Check that the computer running pytavern is on and its server is still running, then try again." } });
  }
  if (!response.ok) throw await failure(response, path);
  if (raw) return response;
  if (response.status === 204) return null;
  return response.json();
}

export const api = {
  get: (path) => call("GET", path),
  post: (path, body) => call("POST", path, body),
  put: (path, body) => call("PUT", path, body),
  patch: (path, body) => call("PATCH", path, body),
  del: (path) => call("DELETE", path),
};

const EVENT_KINDS = ["text", "reasoning", "status", "usage", "error", "finished"];

/**
 * Start a generation; calls onEvent(kind, data) for each SSE event.
 * Returns {id, done, stop, refresh, detach}: ``done`` resolves when the generation has
 * finished (or can no longer be followed); ``stop()`` asks the server to stop it. The
 * generation runs on the server whatever happens to this connection: when the connection
 * breaks, the handle follows the generation again from the last event id it saw.
 */
export async function streamGeneration(chatId, body, onEvent) {
  return streamFrom(`/api/chats/${chatId}/generate`, body, onEvent);
}

/** Start the generation a POST to ``url`` runs (a chat's turn, a group's turn); see
 * ``streamGeneration``. */
export async function streamFrom(url, body, onEvent) {
  const controller = new AbortController();
  const response = await fetch(url, {
    method: "POST",
    headers: { ...headersFor("POST"), "Content-Type": "application/json", Accept: "text/event-stream" },
    body: JSON.stringify(body),
    signal: controller.signal,
  }).catch(() => { throw new ApiError(0, { error: { message: "the pytavern server cannot be reached" } }); });
  if (!response.ok) throw await failure(response);
  const id = response.headers.get("X-Generation-Id");
  const seen = { lastId: 0, finished: false, follower: null, detached: false };
  const handle = { id };
  const counted = countingIds(seen, onEvent);
  handle.done = readEvents(response.body, counted).catch((err) => {
    if (seen.detached) return;
    if (!id) {
      if (err.name !== "AbortError") onEvent("error", { message: "the connection to the server was lost", hint: "The reply so far was kept; try Continue" });
      return;
    }
  }).then(() => {
    if (seen.finished || seen.detached || !id) return undefined;
    seen.follower = followGeneration(id, seen.lastId, onEvent, seen);
    return seen.follower.done;
  });
  handle.stop = async () => {
    if (!id) { controller.abort(); await handle.done; return; }
    try { await api.post(`/api/generations/${id}/stop`); } catch { /* it may have ended */ }
    await handle.done;
  };
  /** The connection may be dead without knowing it (a phone that slept): follow anew. */
  handle.refresh = () => { if (!seen.finished && !seen.follower) controller.abort(); };
  handle.detach = () => { seen.detached = true; controller.abort(); seen.follower?.detach(); };
  return handle;
}

function countingIds(seen, onEvent) {
  return (kind, data, eventId) => {
    if (eventId !== null) {
      if (eventId <= seen.lastId) return; // a duplicate after a reconnect
      seen.lastId = eventId;
    }
    if (kind === "finished") seen.finished = true;
    onEvent(kind, data);
  };
}

/**
 * Follow a running (or just finished) generation from after event ``after``: its events
 * go to onEvent(kind, data) with no gap and no duplicate; EventSource reconnects on its own
 * (sending Last-Event-ID). Returns {id, done, stop, refresh, detach} like streamGeneration.
 */
export function followGeneration(id, after, onEvent, seen = null) {
  seen = seen || { lastId: after, finished: false, follower: null, detached: false };
  const counted = countingIds(seen, onEvent);
  let source = null;
  let resolve;
  const done = new Promise((r) => { resolve = r; });
  const close = () => { if (source) source.close(); resolve(); };
  const open = () => {
    if (source) source.close();
    source = new EventSource(`/api/generations/${encodeURIComponent(id)}/events?after=${seen.lastId}`);
    for (const kind of EVENT_KINDS) {
      source.addEventListener(kind, (event) => {
        let data;
        try { data = JSON.parse(event.data); } catch { return; }
        counted(kind, data, event.lastEventId ? Number(event.lastEventId) : null);
        if (kind === "finished") close();
      });
    }
    source.onerror = () => { if (source.readyState === EventSource.CLOSED) close(); };
  };
  open();
  return {
    id,
    done,
    stop: async () => {
      try { await api.post(`/api/generations/${id}/stop`); } catch { close(); }
      await done;
    },
    refresh: () => { if (!seen.finished && source && source.readyState !== EventSource.OPEN) open(); },
    detach: () => { seen.detached = true; close(); },
  };
}

async function readEvents(stream, onEvent) {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      dispatch(block, onEvent);
    }
  }
  if (buffer.trim()) dispatch(buffer, onEvent);
}

function dispatch(block, onEvent) {
  let kind = "message";
  let eventId = null;
  const data = [];
  for (const line of block.split("\n")) {
    if (line.startsWith("event:")) kind = line.slice(6).trim();
    else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
    else if (line.startsWith("id:")) eventId = Number(line.slice(3).trim());
  }
  if (!data.length) return;
  let parsed;
  try { parsed = JSON.parse(data.join("\n")); } catch (err) { console.error("bad event", err); return; }
  onEvent(kind, parsed, eventId);
}
