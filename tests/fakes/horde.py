"""A fake AI Horde (API v2) for text: async jobs, polling, cancel, models, workers, users.

Faithful parts: ``apikey`` header required (``0000000000`` is anonymous, an unknown key gets
401 ``{"message", "rc": "InvalidAPIKey"}``); submit answers 202 ``{id, kudos}`` and checks
``prompt`` and ``params.max_length`` (400 ``Input payload validation failed``); a job stays
queued for ``polls`` polls with a falling ``queue_position`` and ``wait_time`` before it is
``done`` with ``generations[0].text``; ``DELETE`` cancels; unknown ids give 404
``RequestNotFound``. Armed faults ``faulted`` and ``impossible`` shape the next job; ``stall``
delays the answer to its submission.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from tests.fakes._common import REPLY, record, status_fault
from tests.fakes.server import FaultPlan

KEYS = {"0000000000": ("Anonymous#0", 0), "good-key-123": ("tester#42", 1234.5)}
MODELS = ["koboldcpp/L3-8B-Stheno", "aphrodite/Mistral-Nemo-12B"]


def horde_error(code: int, message: str, rc: str = "") -> dict[str, Any]:
    """The Horde's error body."""
    return {"message": message, "rc": rc or {401: "InvalidAPIKey", 429: "TooMany"}.get(code, "")}


def create_app(plan: FaultPlan, *, polls: int = 3) -> FastAPI:
    """Build the fake; each job needs ``polls`` status polls before it is done."""
    app = FastAPI()
    jobs: dict[str, dict[str, Any]] = {}

    @app.middleware("http")
    async def guard(request: Request, call_next: Any) -> Response:
        await record(plan, request)
        if request.url.path.startswith("/api/v2/status/models"):
            return await call_next(request)  # type: ignore[no-any-return]
        if request.headers.get("apikey") not in KEYS:
            return JSONResponse(horde_error(401, "Invalid API Key"), status_code=401)
        response: Response = await call_next(request)
        return response

    @app.get("/api/v2/find_user")
    async def find_user(request: Request) -> dict[str, Any]:
        name, kudos = KEYS[request.headers["apikey"]]
        return {"username": name, "kudos": kudos, "id": 42, "trusted": False}

    @app.get("/api/v2/status/models")
    async def models(type: str = "image") -> list[dict[str, Any]]:
        if type != "text":
            return []
        return [
            {
                "name": n,
                "count": 3,
                "performance": 12.5,
                "queued": 100,
                "jobs": 2.0,
                "eta": 30,
                "type": "text",
            }
            for n in MODELS
        ]

    @app.get("/api/v2/workers")
    async def workers(type: str = "image") -> list[dict[str, Any]]:
        return (
            [
                {
                    "id": "w-1",
                    "name": "Alpha",
                    "type": "text",
                    "models": MODELS[:1],
                    "max_length": 512,
                    "max_context_length": 8192,
                    "trusted": True,
                    "online": True,
                },
                {
                    "id": "w-2",
                    "name": "Beta",
                    "type": "text",
                    "models": MODELS[1:],
                    "max_length": 256,
                    "max_context_length": 4096,
                    "trusted": False,
                    "online": True,
                },
            ]
            if type == "text"
            else []
        )

    @app.post("/api/v2/generate/text/async")
    async def submit(request: Request) -> Response:
        body = await request.json()
        fault = plan.take()
        params = body.get("params") or {}
        length = params.get("max_length", 80)
        if not isinstance(body.get("prompt"), str) or not 16 <= int(length) <= 1024:
            errors = {"params.max_length": f"{length} is not valid"}
            return JSONResponse(
                {**horde_error(400, "Input payload validation failed"), "errors": errors}, 400
            )
        refused = status_fault(fault, horde_error)
        if refused is not None:
            return refused
        if fault == "stall":  # a slow answer to the submission, then an ordinary job
            await plan.stall()
            fault = None
        job_id = str(uuid.uuid4())
        jobs[job_id] = {"left": polls, "kind": fault, "cancelled": False, "body": body}
        return JSONResponse({"id": job_id, "kudos": 10.0}, status_code=202)

    def status_of(job: dict[str, Any]) -> dict[str, Any]:
        left = job["left"]
        done = left <= 0 and not job["cancelled"] and job["kind"] is None
        status = {
            "finished": int(done),
            "processing": int(left == 1),
            "restarted": 0,
            "waiting": int(left > 1),
            "done": done,
            "faulted": job["kind"] == "faulted" and left <= 1,
            "wait_time": max(left - 1, 0) * 5,
            "queue_position": max(left - 1, 0),
            "kudos": 10.0,
            "is_possible": job["kind"] != "impossible",
            "generations": [],
        }
        if done:
            status["generations"] = [
                {
                    "text": "".join(REPLY),
                    "worker_id": "w-1",
                    "worker_name": "Alpha",
                    "model": MODELS[0],
                    "state": "ok",
                    "seed": 7,
                }
            ]
        return status

    @app.get("/api/v2/generate/text/status/{job_id}")
    async def poll(job_id: str) -> Response:
        job = jobs.get(job_id)
        if job is None:
            return JSONResponse(
                horde_error(404, f"Request with ID {job_id} not found", "RequestNotFound"), 404
            )
        job["left"] -= 1
        return JSONResponse(status_of(job))

    @app.delete("/api/v2/generate/text/status/{job_id}")
    async def cancel(job_id: str) -> Response:
        job = jobs.get(job_id)
        if job is None:
            return JSONResponse(
                horde_error(404, f"Request with ID {job_id} not found", "RequestNotFound"), 404
            )
        job["cancelled"] = True
        return JSONResponse(status_of(job))

    app.state.jobs = jobs
    return app
