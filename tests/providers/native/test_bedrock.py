"""Amazon Bedrock: SigV4 (AWS's test vectors), event-stream framing, Converse against the fake."""

from __future__ import annotations

import struct
import zlib
from datetime import UTC, datetime

import pytest

from pytavern.errors import (
    AuthError,
    BadRequestError,
    GenerationFailedError,
    MissingKeyError,
    StreamInterruptedError,
    StreamProtocolError,
)
from pytavern.providers import _bedrock_wire as wire
from pytavern.providers import _sigv4 as sigv4
from pytavern.providers import create_provider
from pytavern.providers._eventstream import EventStreamDecoder, EventStreamError
from tests.fakes import bedrock_fake
from tests.fakes.flavours_native import FAKES
from tests.fakes.server import FaultPlan, serve
from tests.providers.chat_helpers import (
    FAST,
    collect,
    finished,
    partial_then_error,
    provider_for,
    request,
    text_of,
    usage_of,
)

EXAMPLE = sigv4.Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
VECTOR_TIME = datetime(2015, 8, 30, 12, 36, 0, tzinfo=UTC)
KEY_ID, SECRET = bedrock_fake.ACCESS_KEY_ID, bedrock_fake.SECRET_KEY
PROFILE = "us.anthropic.claude-3-5-haiku-20241022-v1:0"


@pytest.fixture(autouse=True)
def _no_aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)


# --- SigV4: AWS's published test suite (get-vanilla...) and key derivation example ------------


@pytest.mark.parametrize(
    ("url", "signature"),
    [
        (
            "https://example.amazonaws.com/",
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        ),
        (
            "https://example.amazonaws.com/?Param2=value2&Param1=value1",
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
        ),
    ],
)
def test_sigv4_matches_the_aws_test_suite(url: str, signature: str) -> None:
    headers = sigv4.sign(
        "GET", url, b"", EXAMPLE, region="us-east-1", service="service", now=VECTOR_TIME
    )
    assert headers["X-Amz-Date"] == "20150830T123600Z"
    assert headers["Authorization"] == (
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
        f"SignedHeaders=host;x-amz-date, Signature={signature}"
    )


def test_sigv4_signing_key_matches_the_documented_example() -> None:
    key = sigv4.signing_key(EXAMPLE.secret_access_key, "20150830", "us-east-1", "iam")
    assert key.hex() == "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9"


def test_sigv4_encodes_the_sent_path_once_more_and_signs_the_session_token() -> None:
    request, _ = sigv4.canonical_request("POST", "https://h/model/a%3A0/converse", {}, "x")
    assert request.splitlines()[1] == "/model/a%253A0/converse"
    temporary = sigv4.Credentials("AKID", "secret", "TOKEN")
    headers = sigv4.sign("GET", "http://h:8080/", b"", temporary, region="r", service="s")
    assert "SignedHeaders=host;x-amz-date;x-amz-security-token" in headers["Authorization"]
    assert headers["X-Amz-Security-Token"] == "TOKEN" and "secret" not in repr(temporary)


# --- event-stream framing ----------------------------------------------------------------------


def _header_block() -> bytes:
    return (
        b"\x04flag\x00"  # bool true
        + b"\x05count\x04"
        + struct.pack(">i", -7)  # int32
        + b"\x04name\x07"
        + struct.pack(">H", 3)
        + b"abc"
    )


def _message(block: bytes, payload: bytes) -> bytes:
    total = 12 + len(block) + len(payload) + 4
    prelude = struct.pack(">II", total, len(block))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    body = prelude + block + payload
    return body + struct.pack(">I", zlib.crc32(body))


def test_event_stream_decodes_across_any_split_and_every_header_type() -> None:
    stream = _message(_header_block(), b'{"a": 1}') + bedrock_fake.event("messageStop", {})
    decoder = EventStreamDecoder()
    messages = [m for byte in stream for m in decoder.feed(bytes([byte]))]
    assert messages[0].headers == {"flag": True, "count": -7, "name": "abc"}
    assert messages[0].payload == b'{"a": 1}' and decoder.pending == 0
    assert messages[1].header(":event-type") == "messageStop"


@pytest.mark.parametrize("where", [5, -1])
def test_event_stream_checksums_are_checked(where: int) -> None:
    frame = bytearray(bedrock_fake.event("messageStart", {"role": "assistant"}))
    frame[where] ^= 0xFF
    with pytest.raises(EventStreamError, match="checksum"):
        EventStreamDecoder().feed(bytes(frame))


def test_converse_body_alternates_from_the_user_and_keeps_system_apart() -> None:
    req = request("a", "b", system="sys", prefill="Sure", top_k=40, stop=list("abcde"))
    body = wire.build_body(req, PROFILE)
    assert body["system"] == [{"text": "sys"}]
    assert [m["role"] for m in body["messages"]] == ["user", "assistant"]
    assert body["messages"][1]["content"][0]["text"] == "b\n\nSure"
    assert body["inferenceConfig"]["stopSequences"] == list("abcd")
    assert body["additionalModelRequestFields"] == {"top_k": 40}
    assert "additionalModelRequestFields" not in wire.build_body(req, "amazon.nova-lite-v1:0")


# --- against the fake --------------------------------------------------------------------------


async def test_check_lists_on_demand_text_models_and_inference_profiles() -> None:
    plan = FaultPlan(stall_seconds=1.0)
    with FAKES["bedrock"].start(plan, **FAST) as config:
        provider = create_provider(config)
        status = await provider.check()
        assert status.ok and status.hint is None, status.hint
        assert set(status.models) == {"amazon.nova-lite-v1:0", PROFILE}  # no embeddings,
        # and the profile-only model appears as its inference profile
        assert plan.requests[-2]["query"] == {"byOutputModality": "TEXT"}
        assert plan.requests[-1]["path"] == "/inference-profiles"
        await provider.aclose()


async def test_signed_stream_and_plain_reply() -> None:
    plan = FaultPlan(stall_seconds=1.0)
    with FAKES["bedrock"].start(plan, **FAST) as config:
        provider = create_provider(config)
        events = await collect(provider, request("one two", system="Be brief.", max_tokens=50))
        assert text_of(events) == "Echo: one two" and finished(events).reason == "stop"
        usage = usage_of(events)
        assert usage is not None and usage.usage.output_tokens == 3
        assert plan.requests[-1]["path"] == f"/model/{PROFILE}/converse-stream"
        assert plan.requests[-1]["completed"]
        plain = await collect(provider, request("x y z", stream=False, max_tokens=2))
        assert text_of(plain) == "Echo: x" and finished(plain).reason == "length"
        await provider.aclose()


async def test_temporary_credentials_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_SESSION_TOKEN", "FwoGZXIvYXdzEFAKE")
    plan = FaultPlan(stall_seconds=1.0)
    with serve(bedrock_fake.create_app(plan, session_token="FwoGZXIvYXdzEFAKE")) as url:
        provider = provider_for("bedrock", url, None, model=PROFILE, **FAST)
        assert text_of(await collect(provider, request("hi"))) == "Echo: hi"
        await provider.aclose()
        monkeypatch.setenv("AWS_SESSION_TOKEN", "stale")
        stale = provider_for("bedrock", url, None, model=PROFILE, **FAST)
        with pytest.raises(AuthError, match="security token"):
            await collect(stale, request("hi"))
        await stale.aclose()


async def test_wrong_secret_and_unknown_key_id_are_told_apart() -> None:
    secret = "wrong/SECRET+key0123456789"
    plan = FaultPlan(stall_seconds=1.0)
    with FAKES["bedrock"].start(plan, **FAST) as config:
        wrong = provider_for("bedrock", config.url, secret, access_key_id=KEY_ID, model=PROFILE)
        status = await wrong.check()
        assert not status.ok and "signature we calculated" in status.summary
        assert "secret access key" in (status.hint or "")
        with pytest.raises(AuthError) as caught:
            await collect(wrong, request("x"))
        assert secret not in str(caught.value) + str(caught.value.hint)
        await wrong.aclose()
        stranger = provider_for("bedrock", config.url, SECRET, access_key_id="AKIAOTHER")
        status = await stranger.check()
        assert not status.ok and "access key ID" in (status.hint or "")
        assert "IAM console" in (status.hint or "")
        await stranger.aclose()


@pytest.mark.parametrize(
    ("model", "advice"),
    [
        ("anthropic.claude-3-5-haiku-20241022-v1:0", "inference profile"),
        ("meta.llama3-70b-instruct-v1:0", "Model access, in region us-east-1"),
    ],
)
async def test_model_refusals_get_bedrock_advice(model: str, advice: str) -> None:
    plan = FaultPlan(stall_seconds=1.0)
    with FAKES["bedrock"].start(plan, **FAST) as config:
        provider = provider_for("bedrock", config.url, SECRET, access_key_id=KEY_ID, model=model)
        with pytest.raises((BadRequestError, AuthError)) as caught:
            await collect(provider, request("x"))
        assert advice in (caught.value.hint or "")
        await provider.aclose()


def test_missing_credentials_say_where_to_get_them() -> None:
    with pytest.raises(MissingKeyError, match="access key ID") as caught:
        provider_for("bedrock", None, SECRET)
    assert "access_key_id" in (caught.value.hint or "")


@pytest.mark.parametrize(
    ("fault", "error_type"),
    [
        ("cut", StreamInterruptedError),
        ("malformed", StreamProtocolError),
        ("error_in_stream", GenerationFailedError),
    ],
)
async def test_stream_faults_keep_what_arrived(fault: str, error_type: type[Exception]) -> None:
    plan = FaultPlan(stall_seconds=1.0)
    with FAKES["bedrock"].start(plan, **FAST) as config:
        provider = create_provider(config)
        plan.arm(fault)
        got, error = await partial_then_error(provider, request("one two three four"))
        assert got == "Echo:" and isinstance(error, error_type)
        await provider.aclose()
