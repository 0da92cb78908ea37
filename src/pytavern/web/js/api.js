// The HTTP API client: JSON calls with pytavern's error shape, and SSE over fetch.

/** An error answered by the server: message, hint, type, status. */
export class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || `request failed (${status})`);
    this.status = status;
    this.type = error.type || "HTTPError";
    this.hint = error.hint || null;
    this.retryable = !!error.retryable;
  }
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
    throw new ApiError(0, { error: { message: "the pytavern server cannot be reached", hint: "Is `pytavern serve` still running?" } });
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

/**
 * Start a generation; calls onEvent(kind, data) for each SSE event.
 * Returns {id, done, stop}: ``done`` resolves when the stream ends; ``stop()`` asks the server to stop.
 */
export async function streamGeneration(chatId, body, onEvent) {
  const controller = new AbortController();
  const response = await fetch(`/api/chats/${chatId}/generate`, {
    method: "POST",
    headers: { ...headersFor("POST"), "Content-Type": "application/json", Accept: "text/event-stream" },
    body: JSON.stringify(body),
    signal: controller.signal,
  }).catch(() => { throw new ApiError(0, { error: { message: "the pytavern server cannot be reached" } }); });
  if (!response.ok) throw await failure(response);
  const id = response.headers.get("X-Generation-Id");
  const done = readEvents(response.body, onEvent).catch((err) => {
    if (err.name !== "AbortError") onEvent("error", { message: "the connection to the server was lost", hint: "The reply so far was kept; try Continue" });
  });
  const stop = async () => {
    if (!id) { controller.abort(); await done; return; }
    const fallback = setTimeout(() => controller.abort(), 3000);
    try { await api.post(`/api/generations/${id}/stop`); } catch { controller.abort(); }
    await done;
    clearTimeout(fallback);
  };
  return { id, done, stop };
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
  const data = [];
  for (const line of block.split("\n")) {
    if (line.startsWith("event:")) kind = line.slice(6).trim();
    else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
  }
  if (!data.length) return;
  try { onEvent(kind, JSON.parse(data.join("\n"))); } catch (err) { console.error("bad event", err); }
}
