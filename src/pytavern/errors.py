"""The pytavern error tree. Every error carries a message and a hint a person can act on.

::

    PytavernError                  .message, .hint, .retryable
    ├── ConfigError                bad settings, unknown connection or API type
    │   └── MissingKeyError        no API key where one is needed
    ├── NotFoundError              no such character, chat, connection...
    ├── ForbiddenError             refused: no CSRF token, or a read-only thing
    ├── FormatError                a card, chat, lorebook or preset file we cannot read
    ├── StoreError                 the database could not be read or written
    ├── ModelLoadError             a GGUF file is missing or broken
    └── ProviderError              .provider; something went wrong talking to a backend
        ├── ConnectFailedError     refused, DNS failure, TLS...      (retryable)
        ├── UpstreamTimeoutError   no first byte, or a stall         (retryable)
        ├── AuthError              401/403: the key
        ├── UpstreamNotFoundError  404: the URL or the model
        ├── BadRequestError        400/422: the backend refused the request
        ├── RateLimitError         429, .retry_after                  (retryable)
        ├── UpstreamServerError    5xx, overloaded                    (retryable)
        ├── ContentFilteredError   the backend blocked the prompt or reply
        ├── StreamProtocolError    the reply is not what the API speaks (e.g. a web page)
        ├── StreamInterruptedError the stream was cut before it ended
        └── GenerationFailedError  the backend reported a failure (e.g. a Horde job faulted)

``str(error)`` is one line: the message, then the hint.
"""

from __future__ import annotations


class PytavernError(Exception):
    """Base of every error pytavern raises on purpose."""

    retryable: bool = False

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return (
                f"{self.message}. {self.hint}"
                if not self.message.endswith(".")
                else (f"{self.message} {self.hint}")
            )
        return self.message

    @property
    def kind(self) -> str:
        """A stable machine-readable name for this error's class."""
        return type(self).__name__

    def to_dict(self) -> dict[str, object]:
        """Return the error as a JSON-ready mapping (no secrets are ever in errors)."""
        return {
            "type": self.kind,
            "message": self.message,
            "hint": self.hint,
            "retryable": self.retryable,
        }


class ConfigError(PytavernError):
    """Settings or a connection definition are wrong."""


class MissingKeyError(ConfigError):
    """A backend needs an API key and none was found."""


class NotFoundError(PytavernError):
    """A character, chat, connection or other object does not exist."""


class ForbiddenError(PytavernError):
    """Refused for this caller: a missing CSRF token, or a change to something read-only."""


class FormatError(PytavernError):
    """A file (card, chat, lorebook, preset) cannot be read; names the file and problem."""


class StoreError(PytavernError):
    """The database could not be read or written."""


class ModelLoadError(PytavernError):
    """A local GGUF model could not be loaded."""


class ProviderError(PytavernError):
    """Talking to a backend failed. ``provider`` names the backend (connection or API)."""

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        hint: str | None = None,
        status_code: int | None = None,
    ) -> None:
        super().__init__(f"{provider}: {message}", hint=hint)
        self.provider = provider
        self.status_code = status_code


class ConnectFailedError(ProviderError):
    """The backend could not be reached at all."""

    retryable = True


class UpstreamTimeoutError(ProviderError):
    """The backend did not answer in time, or stopped sending mid-reply."""

    retryable = True


class AuthError(ProviderError):
    """The backend refused the key (401/403)."""


class UpstreamNotFoundError(ProviderError):
    """The backend answered 404: usually the URL's path or the model name is wrong."""


class BadRequestError(ProviderError):
    """The backend refused the request as malformed or unsupported."""


class RateLimitError(ProviderError):
    """The backend is rate limiting us (429)."""

    retryable = True

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        hint: str | None = None,
        status_code: int | None = 429,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, provider=provider, hint=hint, status_code=status_code)
        self.retry_after = retry_after


class UpstreamServerError(ProviderError):
    """The backend failed on its side (5xx) or is overloaded."""

    retryable = True


class ContentFilteredError(ProviderError):
    """The backend's safety filter blocked the prompt or the reply."""


class StreamProtocolError(ProviderError):
    """The backend's answer does not follow its API (a web page, broken JSON...)."""


class StreamInterruptedError(ProviderError):
    """The stream ended before the backend said it was done."""


class GenerationFailedError(ProviderError):
    """The backend reported that the generation failed."""
