"""The AI Horde (KoboldAI-style text generation on volunteer workers), API v2.

A generation is a job: ``POST /v2/generate/text/async`` submits it, ``GET
/v2/generate/text/status/{id}`` is polled (queue position and wait time become
``StatusEvent``s) until ``done``; ``DELETE`` on the same path cancels it when the consumer
stops. Auth is the ``apikey`` header (anonymous ``0000000000``) plus a ``Client-Agent``.

Options: ``models`` (names), ``workers`` (ids), ``trusted_workers``, ``poll_interval``
(seconds, default 2.5), ``max_wait`` (seconds), ``auto_adjust`` (default on: with ``models``
set, the reply and context lengths are clamped to what the workers serving them take).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from pydantic import Field

from pytavern import __version__
from pytavern.errors import GenerationFailedError, ProviderError, UpstreamTimeoutError
from pytavern.events import Finished, StatusEvent, StreamEvent, TextDelta
from pytavern.providers._text import TextProvider
from pytavern.providers.spec import BackendSpec, Capabilities, HttpOptions
from pytavern.types import ConnectionStatus, GenerationRequest, ModelInfo

ANONYMOUS_KEY = "0000000000"
CLIENT_AGENT = f"pytavern:{__version__}:https://github.com/pytavern/pytavern"
FORMAT_FLAGS = {"frmtadsnsp": False, "frmtrmblln": False, "frmtrmspch": False, "frmttriminc": False}
"""Horde's output post-processing, all off (as SillyTavern sends)."""


@dataclass(frozen=True, slots=True)
class HordeWorker:
    """A text worker on the Horde."""

    id: str
    name: str
    models: tuple[str, ...]
    max_length: int | None = None
    max_context_length: int | None = None
    trusted: bool = False


@dataclass(frozen=True, slots=True)
class JobStatus:
    """One poll of a job."""

    done: bool
    faulted: bool
    possible: bool
    queue_position: int | None
    wait_seconds: float | None
    text: str | None = None
    model: str | None = None
    worker: str | None = None


def submit_body(
    prompt: str, params: dict[str, Any], options: dict[str, Any], *, context_size: int | None
) -> dict[str, Any]:
    """Build the ``/v2/generate/text/async`` body."""
    sent = {**params, "n": 1, **FORMAT_FLAGS}
    if context_size:
        sent["max_context_length"] = context_size
    body: dict[str, Any] = {
        "prompt": prompt,
        "params": sent,
        "trusted_workers": bool(options.get("trusted_workers", False)),
    }
    if options.get("models"):
        body["models"] = list(options["models"])
    if options.get("workers"):
        body["workers"] = list(options["workers"])
    return body


def parse_status(body: Any) -> JobStatus:
    """Parse one ``/v2/generate/text/status/{id}`` answer."""
    if not isinstance(body, dict) or "done" not in body:
        raise ValueError("the status has no 'done'")
    generations = body.get("generations") or []
    first = generations[0] if generations and isinstance(generations[0], dict) else {}
    queue = body.get("queue_position")
    wait = body.get("wait_time")
    return JobStatus(
        done=bool(body["done"]),
        faulted=bool(body.get("faulted", False)),
        possible=bool(body.get("is_possible", True)),
        queue_position=int(queue) if isinstance(queue, int | float) else None,
        wait_seconds=float(wait) if isinstance(wait, int | float) else None,
        text=first.get("text"),
        model=first.get("model"),
        worker=first.get("worker_name"),
    )


def parse_workers(body: Any) -> list[HordeWorker]:
    """Parse ``/v2/workers?type=text``."""
    return [
        HordeWorker(
            id=str(item["id"]),
            name=str(item.get("name", "")),
            models=tuple(item.get("models") or ()),
            max_length=item.get("max_length"),
            max_context_length=item.get("max_context_length"),
            trusted=bool(item.get("trusted", False)),
        )
        for item in body or []
        if isinstance(item, dict) and "id" in item
    ]


def clamp_to_workers(
    params: dict[str, Any], workers: list[HordeWorker], models: list[str], trusted: bool
) -> dict[str, Any]:
    """Clamp ``max_length`` / ``max_context_length`` to what every eligible worker takes.

    Eligible workers serve one of ``models`` (and are trusted when ``trusted``); with none,
    ``params`` are returned unchanged. The reply length never drops below 16 (Horde's floor).
    """
    eligible = [w for w in workers if set(w.models) & set(models) and (w.trusted or not trusted)]
    if not eligible:
        return params
    out = dict(params)
    lengths = [w.max_length for w in eligible if w.max_length]
    contexts = [w.max_context_length for w in eligible if w.max_context_length]
    if lengths and "max_length" in out:
        out["max_length"] = max(16, min(int(out["max_length"]), min(lengths)))
    if contexts and "max_context_length" in out:
        out["max_context_length"] = min(int(out["max_context_length"]), min(contexts))
    return out


def status_message(status: JobStatus) -> str:
    """Words for a waiting job."""
    if status.queue_position:
        wait = f", about {status.wait_seconds:g} s" if status.wait_seconds is not None else ""
        return f"waiting in the Horde queue: position {status.queue_position}{wait}"
    return "a Horde worker is generating"


class HordeProvider(TextProvider):
    """The AI Horde's text generation."""

    api = "horde"
    sampler_backend = "horde"
    default_url = "https://aihorde.net/api"
    strip_suffixes = ("/v2",)

    def headers(self) -> dict[str, str]:
        """``apikey`` (anonymous when none is set) and ``Client-Agent``."""
        return {"apikey": self.config.key or ANONYMOUS_KEY, "Client-Agent": CLIENT_AGENT}

    def refine_error(self, error: ProviderError, status: int, body: Any) -> ProviderError:
        """A job the Horde no longer knows (``RequestNotFound``) failed, not a bad URL."""
        if status == 404 and isinstance(body, dict) and body.get("rc") == "RequestNotFound":
            return GenerationFailedError(
                "the Horde no longer knows this job (it expired or was cancelled)",
                provider=self.name,
                status_code=404,
                hint="Generate again",
            )
        return error

    async def list_models(self) -> list[ModelInfo]:
        """Text models with workers online (``/v2/status/models?type=text``)."""
        body = await self.http.request_json("GET", "/v2/status/models", params={"type": "text"})
        return [
            ModelInfo(id=str(item["name"]), name=f"{item['name']} ({item.get('count', 0)} workers)")
            for item in body or []
            if isinstance(item, dict) and "name" in item
        ]

    async def list_workers(self) -> list[HordeWorker]:
        """Text workers online (``/v2/workers?type=text``)."""
        return parse_workers(
            await self.http.request_json("GET", "/v2/workers", params={"type": "text"})
        )

    async def probe(self) -> ConnectionStatus:
        """Read the user (kudos) and the models on offer."""
        user = await self.http.request_json("GET", "/v2/find_user")
        models = tuple(m.id for m in await self.list_models())
        details: dict[str, object] = {
            "username": user.get("username") if isinstance(user, dict) else None,
            "kudos": user.get("kudos") if isinstance(user, dict) else None,
            "anonymous": not self.config.key,
        }
        wanted = list(self.options.get("models") or [])
        missing = [m for m in wanted if m not in models]
        return ConnectionStatus(
            ok=not missing,
            summary=f"connected as {details['username']} ({details['kudos']} kudos); "
            f"{len(models)} text models online",
            hint=f"No worker serves {', '.join(missing)} now; pick others from "
            "`pytavern connections models NAME`"
            if missing
            else None,
            model=wanted[0] if wanted else None,
            models=models,
            details=details,
        )

    async def stream(self, request: GenerationRequest) -> AsyncIterator[StreamEvent]:
        """Submit, poll with status events, yield the text; cancel the job if stopped."""
        prompt, params = self.prompt_and_params(request)
        body = submit_body(prompt, params, dict(self.options), context_size=request.context_size)
        if self.options.get("auto_adjust", True) and self.options.get("models"):
            body["params"] = clamp_to_workers(
                body["params"],
                await self.list_workers(),
                list(self.options["models"]),
                bool(self.options.get("trusted_workers", False)),
            )
        job = await self.http.request_json("POST", "/v2/generate/text/async", json_body=body)
        job_id = job.get("id") if isinstance(job, dict) else None
        if not isinstance(job_id, str):
            raise GenerationFailedError(
                "the Horde accepted the job but gave no id", provider=self.name, hint="Try again"
            )
        done = False
        try:
            async for event in self._poll(job_id):
                if isinstance(event, Finished):
                    done = True
                yield event
        finally:
            if not done:
                await self.cancel(job_id)

    async def _poll(self, job_id: str) -> AsyncIterator[StreamEvent]:
        interval = float(self.options.get("poll_interval", 2.5))
        deadline = time.monotonic() + float(self.options.get("max_wait", 1200))
        last: tuple[int | None, float | None] | None = None
        while True:
            status = await self._status(job_id)
            if status.done and status.text is not None:
                yield TextDelta(status.text)
                yield Finished("stop", model=status.model, extra={"worker": status.worker})
                return
            if (status.queue_position, status.wait_seconds) != last:
                last = (status.queue_position, status.wait_seconds)
                yield StatusEvent(
                    status_message(status), status.queue_position, status.wait_seconds
                )
            if time.monotonic() > deadline:
                raise UpstreamTimeoutError(
                    "the Horde job did not finish in time",
                    provider=self.name,
                    hint="The queue is long; try again later, or pick models with more workers",
                )
            await asyncio.sleep(interval)

    async def _status(self, job_id: str) -> JobStatus:
        body = await self.http.request_json("GET", f"/v2/generate/text/status/{job_id}")
        try:
            status = parse_status(body)
        except ValueError as exc:
            raise GenerationFailedError(
                f"the Horde's job status is unreadable ({exc})",
                provider=self.name,
                hint="Try again",
            ) from None
        if status.faulted:
            raise GenerationFailedError(
                "the Horde job faulted on the worker",
                provider=self.name,
                hint="Try again; if it repeats, pick other models or workers",
            )
        if not status.possible:
            raise GenerationFailedError(
                "no Horde worker can take this job",
                provider=self.name,
                hint="Pick models that have workers online, lower the context or reply "
                "length, or turn off trusted_workers",
            )
        return status

    async def cancel(self, job_id: str) -> None:
        """Cancel the job (``DELETE /v2/generate/text/status/{id}``); errors are ignored."""
        with contextlib.suppress(ProviderError):
            await self.http.request_json("DELETE", f"/v2/generate/text/status/{job_id}")


class HordeOptions(HttpOptions):
    """AI Horde's connection options."""

    models: list[str] = Field([], description="Models to ask workers for (any when empty).")
    workers: list[str] = Field([], description="Worker ids to send the job to (any when empty).")
    trusted_workers: bool = Field(False, description="Only use workers the Horde trusts.")
    auto_adjust: bool = Field(
        True, description="Clamp reply and context length to what the chosen workers take."
    )
    poll_interval: float = Field(2.5, gt=0, description="Seconds between job status polls.")
    max_wait: float = Field(1200.0, gt=0, description="Seconds to wait for a job at most.")


SPEC = BackendSpec(
    name="horde",
    sampler_defaults="kobold-classic",
    label="AI Horde",
    group="horde",
    family="text",
    provider=HordeProvider,
    options=HordeOptions,
    default_url="https://aihorde.net/api",
    key_env="HORDE_API_KEY",
    sampler_table="horde",
    capabilities=Capabilities(context_limit=True),
)
