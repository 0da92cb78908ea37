"""The AI Horde provider against the fake: queued jobs, cancel on stop, faults."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from pytavern.errors import AuthError, BadRequestError, GenerationFailedError
from pytavern.events import StatusEvent, TextDelta
from pytavern.providers.horde import (
    HordeProvider,
    HordeWorker,
    clamp_to_workers,
    parse_status,
    submit_body,
)
from tests.fakes import horde as fake
from tests.fakes.server import FaultPlan, serve
from tests.providers.text._helpers import SECRET, collect, finished, make, request, text_of

STATUS = "/api/v2/generate/text/status/"


@pytest.fixture
def plan() -> FaultPlan:
    return FaultPlan()


@pytest.fixture
def url(plan: FaultPlan) -> Iterator[str]:
    with serve(fake.create_app(plan, polls=4)) as base:
        yield base + "/api"


def horde(url: str, **options: object) -> HordeProvider:
    provider = make("horde", url, poll_interval=0.05, **options)
    assert isinstance(provider, HordeProvider)
    return provider


def calls(plan: FaultPlan, method: str, prefix: str) -> list[dict[str, object]]:
    return [r for r in plan.requests if r["method"] == method and str(r["path"]).startswith(prefix)]


def test_pure() -> None:
    body = submit_body("P", {"max_length": 50}, {"models": ["m"], "workers": ["w"]}, context_size=9)
    assert body["params"]["n"] == 1 and body["params"]["max_context_length"] == 9
    assert body["models"] == ["m"] and body["workers"] == ["w"] and body["trusted_workers"] is False
    status = parse_status({"done": False, "queue_position": 3, "wait_time": 10})
    assert status.queue_position == 3 and status.possible
    with pytest.raises(ValueError):
        parse_status({})


async def test_queue_then_text(url: str, plan: FaultPlan) -> None:
    provider = horde(url, models=[fake.MODELS[0]], trusted_workers=True)
    events, error = await collect(provider, request(max_tokens=100, temperature=0.8, seed=3))
    assert error is None
    statuses = [e for e in events if isinstance(e, StatusEvent)]
    positions = [s.queue_position for s in statuses]
    assert positions == sorted(positions, reverse=True) and positions[0] == 2
    assert "position 2" in statuses[0].message
    assert text_of(events) == "Hello, traveler. The road is long."
    done = finished(events)
    assert len(done) == 1 and done[0].model == fake.MODELS[0]
    submit = calls(plan, "POST", "/api/v2/generate/text/async")[0]
    body = submit["json"]
    assert isinstance(body, dict) and body["models"] == [fake.MODELS[0]]
    assert body["trusted_workers"] is True and "sampler_seed" not in body["params"]
    headers = submit["headers"]
    assert isinstance(headers, dict)
    assert headers["apikey"] == "0000000000" and headers["client-agent"].startswith("pytavern:")
    assert len(calls(plan, "GET", STATUS)) == 4 and not calls(plan, "DELETE", STATUS)
    await provider.aclose()


async def test_stop_cancels_the_job(url: str, plan: FaultPlan) -> None:
    provider = horde(url)
    stream = provider.stream(request(max_tokens=100))
    first = await stream.__anext__()
    assert isinstance(first, StatusEvent)
    await stream.aclose()
    deletes = calls(plan, "DELETE", STATUS)
    assert len(deletes) == 1
    job_id = str(deletes[0]["path"]).rsplit("/", 1)[-1]
    assert fake_jobs(url, plan, job_id)
    await provider.aclose()


def fake_jobs(url: str, plan: FaultPlan, job_id: str) -> bool:
    polled = {str(r["path"]).rsplit("/", 1)[-1] for r in calls(plan, "GET", STATUS)}
    return job_id in polled


@pytest.mark.parametrize(
    ("fault", "words"), [("faulted", "faulted"), ("impossible", "no Horde worker")]
)
async def test_failed_jobs(url: str, plan: FaultPlan, fault: str, words: str) -> None:
    provider = horde(url)
    plan.arm(fault)
    events, error = await collect(provider, request(max_tokens=100))
    assert isinstance(error, GenerationFailedError) and words in str(error) and error.hint
    assert not any(isinstance(e, TextDelta) for e in events)
    assert len(calls(plan, "DELETE", STATUS)) == 1  # the failed job is cancelled too
    await provider.aclose()


async def test_submit_retries_429_and_validation_error(url: str, plan: FaultPlan) -> None:
    provider = horde(url)
    plan.arm("429")
    _, error = await collect(provider, request(max_tokens=100))
    assert error is None and len(calls(plan, "POST", "/api/v2/generate")) == 2
    _, error = await collect(provider, request(max_tokens=4))
    assert isinstance(error, BadRequestError) and "validation failed" in str(error)
    await provider.aclose()


async def test_check_models_workers(url: str) -> None:
    provider = horde(url, models=[fake.MODELS[1]])
    status = await provider.check()
    assert status.ok and status.details["kudos"] == 0 and status.details["anonymous"] is True
    assert "max_tokens" in status.details["samplers"]  # type: ignore[operator]
    assert [m.id for m in await provider.list_models()] == fake.MODELS
    workers = await provider.list_workers()
    assert [w.id for w in workers] == ["w-1", "w-2"] and workers[0].trusted
    await provider.aclose()
    provider = horde(url, models=["gone-model"])
    status = await provider.check()
    assert not status.ok and status.hint and "gone-model" in status.hint
    await provider.aclose()


async def test_user_key_and_bad_key(url: str) -> None:
    provider = make("horde", url, key="good-key-123")
    status = await provider.check()
    assert status.details["username"] == "tester#42" and status.details["kudos"] == 1234.5
    await provider.aclose()
    provider = make("horde", url, key=SECRET)
    status = await provider.check()
    assert not status.ok and SECRET not in str(status.to_dict())
    _, error = await collect(provider, request(max_tokens=100))
    assert isinstance(error, AuthError) and SECRET not in str(error)
    await provider.aclose()


def test_clamp_to_workers() -> None:
    workers = [
        HordeWorker("1", "a", ("m1",), max_length=120, max_context_length=4096, trusted=True),
        HordeWorker("2", "b", ("m1", "m2"), max_length=80, max_context_length=2048),
        HordeWorker("3", "c", ("m3",), max_length=10, max_context_length=512),
    ]
    params = {"max_length": 300, "max_context_length": 8192}
    assert clamp_to_workers(params, workers, ["m1"], False) == {
        "max_length": 80,
        "max_context_length": 2048,
    }
    assert clamp_to_workers(params, workers, ["m1"], True)["max_length"] == 120
    assert clamp_to_workers(params, workers, ["zz"], False) == params
    assert clamp_to_workers({"max_length": 300}, workers, ["m3"], False)["max_length"] == 16


async def test_auto_adjust_clamps_to_workers(url: str, plan: FaultPlan) -> None:
    provider = horde(url, models=[fake.MODELS[1]])
    req = dataclasses.replace(request(max_tokens=400), context_size=8000)
    _, error = await collect(provider, req)
    assert error is None
    body = calls(plan, "POST", "/api/v2/generate/text/async")[0]["json"]
    assert isinstance(body, dict)
    assert body["params"]["max_length"] == 256 and body["params"]["max_context_length"] == 4096
    await provider.aclose()


async def test_forgotten_job_is_a_failed_generation(url: str) -> None:
    provider = horde(url)
    with pytest.raises(GenerationFailedError, match="no longer knows"):
        await provider._status("no-such-job")
    await provider.aclose()
