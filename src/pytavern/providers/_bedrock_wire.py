"""Amazon Bedrock Converse API wire format: pure request building and answer parsing.

``POST /model/{modelId}/converse`` (JSON) and ``/converse-stream`` (AWS event-stream
messages whose ``:event-type`` is ``messageStart``, ``contentBlockDelta``,
``contentBlockStop``, ``messageStop`` and ``metadata``; failures arrive as
``:message-type: exception`` messages). Errors are ``{"message": "..."}``.
"""

from __future__ import annotations

import json
from typing import Any

from pytavern.errors import (
    BadRequestError,
    GenerationFailedError,
    ProviderError,
    RateLimitError,
    StreamInterruptedError,
    StreamProtocolError,
    UpstreamServerError,
    UpstreamTimeoutError,
)
from pytavern.events import Finished, ReasoningDelta, StreamEvent, TextDelta, UsageEvent
from pytavern.providers._chat import merge_same_role, named, split_leading_system
from pytavern.providers._eventstream import EventMessage
from pytavern.types import FinishReason, GenerationRequest, ModelInfo, Usage

SAMPLERS = frozenset({"max_tokens", "temperature", "top_p", "top_k", "stop"})
STOP_REASONS: dict[str, FinishReason] = {
    "end_turn": "stop",
    "stop_sequence": "stop_sequence",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "content_filtered": "content_filter",
    "guardrail_intervened": "content_filter",
    "tool_use": "stop",
}
STREAM_EXCEPTIONS: dict[str, type[ProviderError]] = {
    "throttlingException": RateLimitError,
    "serviceUnavailableException": UpstreamServerError,
    "internalServerException": UpstreamServerError,
    "modelTimeoutException": UpstreamTimeoutError,
    "validationException": BadRequestError,
}


def build_messages(request: GenerationRequest) -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
    """``(system, messages)``: roles user/assistant alternating, starting with the user."""
    system_texts, rest = split_leading_system(request.messages)
    pairs = [("assistant" if m.role == "assistant" else "user", named(m)) for m in rest]
    if request.prefill and request.prefill.rstrip():
        pairs.append(("assistant", request.prefill.rstrip()))
    if not pairs or pairs[0][0] != "user":
        pairs.insert(0, ("user", "Let's get started."))
    messages = [{"role": r, "content": [{"text": t}]} for r, t in merge_same_role(pairs)]
    return [{"text": t} for t in system_texts if t], messages


def build_body(request: GenerationRequest, model: str) -> dict[str, Any]:
    """The Converse request body; ``top_k`` goes to Anthropic models as an extra field."""
    system, messages = build_messages(request)
    s = request.sampling
    config: dict[str, Any] = {}
    for ours, theirs in (("max_tokens", "maxTokens"), ("temperature", "temperature")):
        if getattr(s, ours) is not None:
            config[theirs] = getattr(s, ours)
    if s.top_p is not None:
        config["topP"] = s.top_p
    if s.stop:
        config["stopSequences"] = list(s.stop)[:4]
    body: dict[str, Any] = {"messages": messages}
    if system:
        body["system"] = system
    if config:
        body["inferenceConfig"] = config
    if s.top_k is not None and "anthropic." in model:
        body["additionalModelRequestFields"] = {"top_k": s.top_k}
    return body


def _usage(data: Any) -> Usage | None:
    usage = data.get("usage") if isinstance(data, dict) else None
    if not isinstance(usage, dict):
        return None
    return Usage(usage.get("inputTokens"), usage.get("outputTokens"))


def _delta_events(delta: Any) -> list[StreamEvent]:
    if not isinstance(delta, dict):
        return []
    if isinstance(delta.get("text"), str) and delta["text"]:
        return [TextDelta(delta["text"])]
    reasoning = delta.get("reasoningContent")
    text = reasoning.get("text") if isinstance(reasoning, dict) else None
    return [ReasoningDelta(text)] if isinstance(text, str) and text else []


def _payload(provider: str, message: EventMessage) -> Any:
    try:
        return json.loads(message.payload or b"{}")
    except ValueError:
        raise StreamProtocolError(
            "the stream carried an event whose payload is not JSON", provider=provider
        ) from None


def stream_exception(provider: str, message: EventMessage) -> ProviderError:
    """The error an ``exception`` (or ``error``) message reports."""
    kind = message.header(":exception-type") or message.header(":error-code") or "error"
    data = _payload(provider, message) if message.payload else {}
    text = data.get("message") if isinstance(data, dict) else None
    said = f"Bedrock reported {kind} mid-reply: {text or message.header(':error-message')}"
    error_class = STREAM_EXCEPTIONS.get(kind, GenerationFailedError)
    return error_class(said, provider=provider, hint="What arrived was kept; try again")


class StreamParser:
    """Turns ``converse-stream`` event messages into our events."""

    def __init__(self, provider: str, model: str) -> None:
        self.provider = provider
        self.model = model
        self.reason: FinishReason | None = None
        self.usage: Usage | None = None

    def feed(self, message: EventMessage) -> list[StreamEvent]:
        """Take one message; raise on an exception message."""
        if message.header(":message-type") in ("exception", "error"):
            raise stream_exception(self.provider, message)
        kind = message.header(":event-type")
        data = _payload(self.provider, message)
        if kind == "contentBlockDelta":
            return _delta_events(data.get("delta"))
        if kind == "messageStop":
            self.reason = STOP_REASONS.get(str(data.get("stopReason")), "stop")
        elif kind == "metadata":
            self.usage = _usage(data)
        return []

    def end(self) -> list[StreamEvent]:
        """Close the stream; raise when ``messageStop`` never came."""
        if self.reason is None:
            raise StreamInterruptedError(
                "the stream ended before Bedrock finished the reply",
                provider=self.provider,
                hint="What arrived was kept; continue or regenerate the reply",
            )
        events: list[StreamEvent] = [UsageEvent(self.usage)] if self.usage else []
        return [*events, Finished(self.reason, model=self.model)]


def parse_reply(provider: str, model: str, data: Any) -> list[StreamEvent]:
    """Turn a ``converse`` reply into events."""
    message = (data.get("output") or {}).get("message") if isinstance(data, dict) else None
    if not isinstance(message, dict):
        raise StreamProtocolError(
            "the answer has no output message",
            provider=provider,
            hint="Check that the URL points at Bedrock's runtime API",
        )
    events: list[StreamEvent] = []
    for block in message.get("content") or []:
        events.extend(_delta_events(block))
    usage = _usage(data)
    reason = STOP_REASONS.get(str(data.get("stopReason")), "stop")
    return [*events, *([UsageEvent(usage)] if usage else []), Finished(reason, model=model)]


def parse_models(data: Any) -> list[ModelInfo]:
    """Read ``GET /foundation-models`` (``modelSummaries``): the text models that can be
    called by their own ID (on demand; the others need an inference profile)."""
    items = data.get("modelSummaries") if isinstance(data, dict) else None
    models: list[ModelInfo] = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict) or not item.get("modelId"):
            continue
        if "TEXT" not in (item.get("outputModalities") or ["TEXT"]):
            continue
        if "ON_DEMAND" not in (item.get("inferenceTypesSupported") or ["ON_DEMAND"]):
            continue
        models.append(ModelInfo(id=str(item["modelId"]), name=item.get("modelName")))
    return models


def parse_profiles(data: Any) -> list[ModelInfo]:
    """Read ``GET /inference-profiles`` (``inferenceProfileSummaries``), active ones."""
    items = data.get("inferenceProfileSummaries") if isinstance(data, dict) else None
    profiles: list[ModelInfo] = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict) or not item.get("inferenceProfileId"):
            continue
        if item.get("status", "ACTIVE") != "ACTIVE":
            continue
        name = item.get("inferenceProfileName")
        profiles.append(ModelInfo(id=str(item["inferenceProfileId"]), name=name))
    return profiles


IAM_KEYS = "IAM console > Users > (user) > Security credentials > Access keys"
ADVICE: tuple[tuple[str, str], ...] = (
    (
        "security token included in the request is invalid",
        f"AWS does not know this access key ID: check option access_key_id (or "
        f"AWS_ACCESS_KEY_ID) against {IAM_KEYS}",
    ),
    (
        "signature we calculated does not match",
        "The secret access key does not belong to the access key ID: store the right one "
        "with `pytavern connections add NAME --api bedrock --key -` (or AWS_SECRET_ACCESS_KEY)",
    ),
    ("signature expired", "This computer's clock is wrong: set it right (AWS allows 5 minutes)"),
    (
        "on-demand throughput isn",
        "This model is reached through an inference profile: use its ID as the model, "
        "e.g. us.<model id> (Bedrock console > Cross-region inference)",
    ),
    (
        "access to the model",
        "Enable the model in the Bedrock console > Model access, in this connection's region",
    ),
)


def refine(error: ProviderError, region: str, status: int, body: Any) -> ProviderError:
    """Bedrock's advice, chosen by what its error message says."""
    message = ""
    if isinstance(body, dict):
        message = str(body.get("message") or body.get("Message") or "")
    lowered = message.lower()
    for needle, advice in ADVICE:
        if needle in lowered:
            error.hint = advice.replace("this connection's region", f"region {region}")
            return error
    if status == 429:
        error.hint = "Wait and try again, or ask for a higher quota in Service Quotas > Bedrock"
    elif status == 404:
        error.hint = "Check the model ID: `pytavern connections models NAME` lists this region's"
    return error
