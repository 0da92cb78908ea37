"""Vertex AI against the fake: express key, service account (signed JWT, cached token)."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from pytavern.errors import (
    AuthError,
    MissingKeyError,
    StreamInterruptedError,
    UpstreamNotFoundError,
)
from pytavern.providers import _vertex_auth as auth
from pytavern.providers import create_provider
from tests.fakes import vertex_fake
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
)


def _unb64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def test_assertion_is_an_rs256_jwt_with_googles_claims() -> None:
    account = auth.parse_service_account(vertex_fake.service_account_json("http://t"), "c")
    jwt = auth.sign_assertion(account, 1000.0, "c")
    head, body, signature = jwt.split(".")
    assert json.loads(_unb64(head)) == {"alg": "RS256", "typ": "JWT", "kid": vertex_fake.KEY_ID}
    claims = json.loads(_unb64(body))
    assert claims["aud"] == "http://t/token" and claims["exp"] - claims["iat"] == 3600
    assert claims["scope"] == auth.SCOPE and claims["iss"] == vertex_fake.CLIENT_EMAIL
    public = serialization.load_pem_private_key(vertex_fake.PRIVATE_PEM.encode(), None)
    assert isinstance(public, rsa.RSAPrivateKey)
    public.public_key().verify(  # raises when the signature is wrong
        _unb64(signature), f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256()
    )
    assert "PRIVATE" not in repr(account)


async def test_service_account_token_is_fetched_once_and_renewed_at_expiry() -> None:
    plan = FaultPlan(stall_seconds=1.0)
    with FAKES["vertex"].start(plan, **FAST) as config:
        provider = create_provider(config)
        status = await provider.check()
        assert status.ok and "service account" in status.summary
        events = await collect(provider, request("one two", system="Be brief."))
        assert text_of(events) == "Echo: one two" and finished(events).reason == "stop"
        plain = await collect(provider, request("x", stream=False))
        assert text_of(plain) == "Echo: x"
        paths = [r["path"] for r in plan.requests]
        assert paths.count("/token") == 1
        stream = next(r for r in plan.requests if "streamGenerateContent" in r["path"])
        assert stream["path"] == (
            "/v1/projects/fake-project-123/locations/us-central1/publishers/google/models/"
            "gemini-2.5-flash:streamGenerateContent"
        )
        assert stream["query"] == {"alt": "sse"}
        assert stream["headers"]["authorization"] == "Bearer ya29.fake-1"
        await provider.aclose()


async def test_token_is_renewed_shortly_before_it_expires() -> None:
    plan = FaultPlan(stall_seconds=1.0)
    with serve(vertex_fake.create_app(plan, token_lifetime=61)) as url:
        key = vertex_fake.service_account_json(url)
        provider = provider_for("vertex", url, key, **FAST)
        await collect(provider, request("first"))
        assert plan.requests[-1]["headers"]["authorization"] == "Bearer ya29.fake-1"
        await asyncio.sleep(1.2)  # 61 s lifetime - 60 s margin: due for renewal
        await collect(provider, request("again"))
        assert [r["path"] for r in plan.requests].count("/token") == 2
        assert plan.requests[-1]["headers"]["authorization"] == "Bearer ya29.fake-2"
        await provider.aclose()


async def test_express_key_goes_in_the_query_and_never_in_errors() -> None:
    plan = FaultPlan(stall_seconds=1.0)
    with serve(vertex_fake.create_app(plan)) as url:
        provider = provider_for("vertex", url, vertex_fake.EXPRESS_KEY, **FAST)
        assert (await provider.check()).ok
        events = await collect(provider, request("hi"))
        assert text_of(events) == "Echo: hi"
        sent = plan.requests[-1]
        assert sent["path"] == "/v1/publishers/google/models/gemini-2.5-flash:streamGenerateContent"
        assert sent["query"] == {"key": vertex_fake.EXPRESS_KEY, "alt": "sse"}
        await provider.aclose()
        secret = "AQ.wrong-SECRET-express-42"
        wrong = provider_for("vertex", url, secret, **FAST)
        status = await wrong.check()
        assert not status.ok and "express-mode key" in status.summary
        assert "Vertex AI Studio" in (status.hint or "")
        with pytest.raises(AuthError) as caught:
            await collect(wrong, request("x"))
        assert secret not in str(caught.value) + str(caught.value.hint)
        await wrong.aclose()


async def test_wrong_project_and_unknown_model_get_vertex_advice(tmp_path: Path) -> None:
    plan = FaultPlan(stall_seconds=1.0)
    with serve(vertex_fake.create_app(plan)) as url:
        key_file = tmp_path / "sa.json"
        key_file.write_text(vertex_fake.service_account_json(url), encoding="utf-8")
        other = provider_for("vertex", url, None, credentials_path=str(key_file), project="other")
        status = await other.check()
        assert not status.ok and "aiplatform.endpoints.predict" in status.summary
        assert "roles/aiplatform.user" in (status.hint or "")
        await other.aclose()
        unknown = provider_for("vertex", url, None, credentials_path=str(key_file), model="nope")
        with pytest.raises(UpstreamNotFoundError, match="Publisher Model") as caught:
            await collect(unknown, request("x"))
        assert "region" in (caught.value.hint or "")
        await unknown.aclose()


async def test_a_key_google_refuses_is_explained() -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = stranger.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    plan = FaultPlan(stall_seconds=1.0)
    with serve(vertex_fake.create_app(plan)) as url:
        key = vertex_fake.service_account_json(url, key=pem)
        provider = provider_for("vertex", url, key, **FAST)
        status = await provider.check()
        assert not status.ok and "Invalid JWT Signature" in status.summary
        assert "Service Accounts" in (status.hint or "") and "BEGIN" not in status.summary
        await provider.aclose()


def test_missing_credentials_say_how_to_give_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    with pytest.raises(MissingKeyError) as caught:
        provider_for("vertex", None, None)
    assert "credentials_path" in (caught.value.hint or "")


async def test_cut_stream_keeps_what_arrived() -> None:
    plan = FaultPlan(stall_seconds=1.0)
    with FAKES["vertex"].start(plan, **FAST) as config:
        provider = create_provider(config)
        plan.arm("cut")
        got, error = await partial_then_error(provider, request("one two three four"))
        assert got == "Echo:" and isinstance(error, StreamInterruptedError)
        await provider.aclose()
