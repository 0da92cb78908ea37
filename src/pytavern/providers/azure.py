"""Azure OpenAI (API type ``azure``): OpenAI's wire on Azure's URLs, key header and errors.

Requests go to ``{endpoint}/openai/deployments/{deployment}/chat/completions
?api-version={api_version}`` with the key in the ``api-key`` header (never ``Authorization``).
The URL is the resource's endpoint (``https://NAME.openai.azure.com``; a pasted full request
URL is cut back to it). Options: ``deployment`` (default: the connection's model) and
``api_version``. The model list is the resource's deployments (``GET
/openai/deployments``); where the resource no longer offers that list, the configured
deployment is the list and ``connections test`` checks it with a 1-token request. Azure's
content filter shows as a ``content_filter`` finish (the reply was cut) or, for a prompt, a
400 ``content_filter`` refusal with its own advice.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pydantic import Field

from pytavern.errors import (
    ConfigError,
    ContentFilteredError,
    ProviderError,
    UpstreamNotFoundError,
)
from pytavern.providers import _openai_wire as wire
from pytavern.providers._chat import ChatProvider, require_key
from pytavern.providers._http_config import normalize_base_url
from pytavern.providers._http_errors import safe_origin, scrub
from pytavern.providers.base import ConnectionConfig, generate, one_token_probe
from pytavern.providers.openai_compat import OpenAICompatProvider, openai_flavour
from pytavern.providers.spec import BackendSpec, HttpOptions
from pytavern.types import (
    ConnectionStatus,
    GenerationRequest,
    ModelInfo,
)

KEY_ENV = "AZURE_OPENAI_API_KEY"
API_VERSION = "2024-10-21"
LIST_API_VERSION = "2022-12-01"
"""The last data-plane version with ``GET /openai/deployments`` (newer resources 404 it)."""
PORTAL = "the Azure portal: your Azure OpenAI resource > Resource Management > Keys and Endpoint"


class AzureOptions(HttpOptions):
    """Azure OpenAI's connection options."""

    deployment: str | None = Field(
        None, description="The deployment name (default: the connection's model)."
    )
    api_version: str = Field(API_VERSION, description="Azure OpenAI data-plane api-version.")


def endpoint_of(config: ConnectionConfig) -> str:
    """The resource endpoint from the connection's URL (anything from ``/openai`` cut off)."""
    if not config.url:
        raise ConfigError(
            f"connection {config.name!r} (azure) has no URL",
            hint=f"Give the resource's endpoint from {PORTAL}: `pytavern connections add "
            f"{config.name} --api azure --url https://NAME.openai.azure.com`",
        )
    base = normalize_base_url(config.url)
    return base.split("/openai", 1)[0].rstrip("/")


def deployment_of(config: ConnectionConfig) -> str:
    """The deployment: option ``deployment``, else the model; ``ConfigError`` when neither."""
    deployment = config.options.get("deployment") or config.model
    if not deployment:
        raise ConfigError(
            f"connection {config.name!r} (azure) names no deployment",
            hint="Give the deployment's name (Azure AI Foundry > Deployments) with "
            f"`--option deployment=NAME` or `--model NAME` on `pytavern connections add "
            f"{config.name} --api azure`",
        )
    return str(deployment)


ADVICE: dict[str, str] = {
    "401": f"Copy KEY 1 or KEY 2 from {PORTAL}, store it with `pytavern connections add "
    f"NAME --api azure --key -` (or set {KEY_ENV}); the URL must be that resource's endpoint",
    "DeploymentNotFound": "Check the deployment name (option deployment) in Azure AI Foundry "
    "> Deployments; a deployment made in the last 5 minutes may not be ready yet",
    "404": "Check the endpoint URL (https://NAME.openai.azure.com) and option api_version "
    f"(e.g. {API_VERSION})",
    "429": "Wait and try again, or raise the deployment's tokens-per-minute quota in "
    "Azure AI Foundry > Deployments",
}


def refine(error: ProviderError, provider: str, status: int, body: Any) -> ProviderError:
    """Azure's advice for its error bodies ``{"error": {"code", "message", ...}}``."""
    inner = body.get("error") if isinstance(body, dict) else None
    code = str(inner.get("code") or "") if isinstance(inner, dict) else ""
    if code == "content_filter":
        return ContentFilteredError(
            "Azure's content filter refused the prompt",
            provider=provider,
            status_code=status,
            hint="Rephrase the prompt, or ask Microsoft for modified content filtering "
            "and loosen the filter of this deployment in Azure AI Foundry",
        )
    advice = ADVICE.get(code) or ADVICE.get(str(status))
    if advice:
        error.hint = advice
    return error


class AzureProvider(OpenAICompatProvider):
    """OpenAI Chat Completions on an Azure OpenAI deployment."""

    def __init__(self, config: ConnectionConfig) -> None:
        self.flavour = FLAVOUR
        self.api = config.api
        self.endpoint = endpoint_of(config)
        self.deployment = deployment_of(config)
        base = f"{self.endpoint}/openai/deployments/{self.deployment}"
        headers = {"api-key": require_key(config, KEY_ENV)}
        ChatProvider.__init__(self, config, base_url=base, headers=headers)

    def request_params(self) -> dict[str, str]:
        """``api-version`` on every chat request."""
        return {"api-version": str(self.config.options.get("api_version") or API_VERSION)}

    def refine_error(self, error: ProviderError, status: int, body: Any) -> ProviderError:
        """Azure's content-filter refusal and its advice for keys, deployments, quotas."""
        return refine(error, self.name, status, body)

    def model_for(self, request: GenerationRequest | None = None) -> str:
        """The model named in the body: the request's or connection's, else the deployment."""
        return (request.model if request else None) or self.config.model or self.deployment

    async def deployments(self) -> list[ModelInfo]:
        """``GET /openai/deployments`` (raises ``UpstreamNotFoundError`` where retired)."""
        url = f"{self.endpoint}/openai/deployments"
        params = {"api-version": LIST_API_VERSION}
        return wire.parse_models(await self.http.request_json("GET", url, params=params))

    async def list_models(self) -> list[ModelInfo]:
        """The resource's deployments, or the configured one where it lists none."""
        try:
            return await self.deployments()
        except UpstreamNotFoundError:
            return [ModelInfo(id=self.deployment)]

    async def check(self) -> ConnectionStatus:
        """List the deployments (the configured one must be there), else send 1 token."""
        try:
            ids = tuple(m.id for m in await self.deployments())
        except UpstreamNotFoundError:
            return await self._probe_deployment()
        except ProviderError as error:
            return _failed(scrub(error, self.config.key))
        if self.deployment not in ids:
            return ConnectionStatus(
                ok=False,
                summary=f"{self.name}: the resource has no deployment {self.deployment!r} "
                f"(it has: {', '.join(ids) or 'none'})",
                hint=ADVICE["DeploymentNotFound"],
                models=ids,
            )
        return ConnectionStatus(
            ok=True,
            summary=f"{self.name}: connected to {safe_origin(self.endpoint)} "
            f"(deployment {self.deployment!r} of {len(ids)})",
            model=self.deployment,
            models=ids,
        )

    async def _probe_deployment(self) -> ConnectionStatus:
        """A 1-token request to the deployment; a status naming its error when it fails."""
        try:
            await generate(self, one_token_probe())
        except ProviderError as error:
            return _failed(error)
        return ConnectionStatus(
            ok=True,
            summary=f"{self.name}: deployment {self.deployment!r} answered a 1-token "
            "request (this resource does not list its deployments)",
            model=self.deployment,
            models=(self.deployment,),
        )


def _failed(error: ProviderError) -> ConnectionStatus:
    """The status of a check that failed with ``error`` (already scrubbed of the key)."""
    return ConnectionStatus(
        ok=False, summary=error.message, hint=error.hint, details={"kind": error.kind}
    )


FLAVOUR = wire.Flavour("azure", stop_limit=4, reasoning_rules=True)

SPEC: BackendSpec = openai_flavour(
    "azure",
    "Azure OpenAI",
    default_url=None,
    key_env=KEY_ENV,
    flavour=FLAVOUR,
    options=AzureOptions,
    needs_url=True,
)
SPEC = replace(SPEC, provider=AzureProvider)
