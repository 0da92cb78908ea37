"""A logging fake KoboldCpp for recording what SillyTavern sends; 127.0.0.1 only.

Usage: python fake_upstream.py PORT LOG.jsonl — every request is appended to LOG as
``{"method", "path", "body"}``; completions answer four fixed replies in turn.
"""

from __future__ import annotations

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

REPLIES = ["The lantern flickers.", "She nods slowly.", "Rain drums on the roof.", "Wren smiles."]
MODEL = "koboldcpp/fake-model"
GETS: dict[str, Any] = {
    "/api/extra/version": {"result": "KoboldCpp", "version": "1.74"},
    "/api/v1/model": {"result": MODEL},
    "/v1/models": {"object": "list", "data": [{"id": MODEL, "object": "model"}]},
    "/api/extra/true_max_context_length": {"value": 4096},
    "/api/v1/config/max_context_length": {"value": 4096},
    "/api/v1/info/version": {"result": "1.2.5"},
}


class Handler(BaseHTTPRequestHandler):
    """Answers SillyTavern's KoboldCpp calls and logs each one."""

    log_path = "requests.jsonl"
    replies_sent = 0

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the JSONL log is the record."""

    def do_GET(self) -> None:
        """Status, model and context-length probes."""
        self._log(None)
        answer = next((v for k, v in GETS.items() if self.path.startswith(k)), None)
        if answer is None:
            self._send({"detail": "not found"}, 404)
        else:
            self._send(answer)

    def do_POST(self) -> None:
        """Token counts and completions."""
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.loads(raw) if raw else None
        self._log(body)
        text = str(body.get("prompt") or "") if isinstance(body, dict) else ""
        if "tokencount" in self.path:
            words = len(text.split())
            self._send({"value": words, "ids": list(range(words))})
        elif "chat/completions" in self.path:
            self._chat(isinstance(body, dict) and bool(body.get("stream")))
        elif "completions" in self.path or "generate" in self.path:
            reply = REPLIES[Handler.replies_sent % len(REPLIES)]
            Handler.replies_sent += 1
            choice = {"index": 0, "text": reply, "finish_reason": "stop"}
            self._send({"object": "text_completion", "model": MODEL, "choices": [choice]})
        else:
            self._send({"detail": "not found"}, 404)

    def _chat(self, stream: bool) -> None:
        """An OpenAI chat completion, streamed as SSE when asked."""
        reply = REPLIES[Handler.replies_sent % len(REPLIES)]
        Handler.replies_sent += 1
        if not stream:
            message = {"role": "assistant", "content": reply}
            choice = {"index": 0, "message": message, "finish_reason": "stop"}
            self._send({"object": "chat.completion", "model": MODEL, "choices": [choice]})
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for delta, finish in (({"role": "assistant", "content": reply}, None), ({}, "stop")):
            chunk = {"object": "chat.completion.chunk", "model": MODEL}
            chunk["choices"] = [{"index": 0, "delta": delta, "finish_reason": finish}]
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
        self.wfile.write(b"data: [DONE]\n\n")
        self.close_connection = True

    def _log(self, body: object) -> None:
        entry = {"method": self.command, "path": self.path, "body": body}
        with open(self.log_path, "a", encoding="utf-8") as log:
            log.write(json.dumps(entry) + "\n")

    def _send(self, answer: object, code: int = 200) -> None:
        data = json.dumps(answer).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


if __name__ == "__main__":
    Handler.log_path = sys.argv[2]
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
