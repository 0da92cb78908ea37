"""User accounts on the server: login sessions in a cookie, per-user engines, CSRF tokens.

Only active when ``Settings.accounts`` is on. A session token lives in an HttpOnly,
SameSite=Strict cookie; the database keeps only its SHA-256. Every state-changing request
must carry the session's CSRF token in ``X-CSRF-Token``. Logins are rate limited per client.
"""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path

from starlette.requests import Request

from pytavern.engine.services import Services, UserRecord
from pytavern.engine.services.users import write_private_file
from pytavern.errors import ForbiddenError, PytavernError
from pytavern.security.csrf import SAFE_METHODS, csrf_token, csrf_valid
from pytavern.security.passwords import hash_password
from pytavern.security.ratelimit import RateLimiter
from pytavern.settings import Settings

SESSION_COOKIE = "pytavern_session"
CSRF_HEADER = "x-csrf-token"


class LoginRequiredError(PytavernError):
    """The request needs a logged-in user (401)."""


class TooManyAttemptsError(PytavernError):
    """Too many failed logins from this client (429)."""

    retryable = True


def token_hash(token: str) -> str:
    """What the database keeps of a session token."""
    return hashlib.sha256(token.encode()).hexdigest()


def load_secret(path: Path) -> bytes:
    """The server's CSRF secret, created (0600) on first use and shared by its processes."""
    try:
        secret = path.read_bytes()
        if len(secret) >= 32:
            return secret
    except FileNotFoundError:
        pass
    secret = secrets.token_bytes(32)
    write_private_file(path, secret)
    return secret


_DUMMY: list[str] = []


def _dummy_hash() -> str:
    """A hash to check unknown names against, so they take as long as known ones."""
    if not _DUMMY:
        _DUMMY.append(hash_password(secrets.token_urlsafe(16)))
    return _DUMMY[0]


class Accounts:
    """Logins, sessions and the services of each user."""

    def __init__(self, services: Services, settings: Settings) -> None:
        self.services = services
        self.session_hours = settings.session_hours
        self.secret = load_secret(settings.data_dir / "csrf.key")
        self.limiter = RateLimiter(limit=5, window=60.0)
        self._views: dict[int, Services] = {}

    def login(self, name: str, password: str, client: str) -> tuple[str, UserRecord]:
        """Check a password and open a session; returns its token and the user."""
        wait = self.limiter.retry_after(client)
        if wait > 0:
            raise TooManyAttemptsError(
                "too many failed logins", hint=f"Wait {int(wait) + 1} seconds and try again"
            )
        users = self.services.users
        user = users.find(name)
        stored = user.password_hash if user is not None else _dummy_hash()
        valid = users.verify(stored, password)
        if user is None or not user.enabled or not valid:
            self.limiter.hit(client)
            raise LoginRequiredError("wrong user name or password", hint="Check both and retry")
        self.limiter.reset(client)
        token = secrets.token_urlsafe(32)
        users.open_session(token_hash(token), user.id, self.session_hours)
        return token, user

    def logout(self, request: Request) -> None:
        """End the request's session, if it has one."""
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            self.services.users.close_session(token_hash(token))

    def user(self, request: Request) -> UserRecord | None:
        """The logged-in user of a request, if any."""
        token = request.cookies.get(SESSION_COOKIE)
        return self.services.users.session_user(token_hash(token)) if token else None

    def require(self, request: Request) -> UserRecord:
        """The logged-in user; checks the CSRF token of state-changing requests."""
        user = self.user(request)
        if user is None:
            raise LoginRequiredError("you are not logged in", hint="Log in to continue")
        token = request.cookies.get(SESSION_COOKIE, "")
        if request.method not in SAFE_METHODS and not csrf_valid(
            self.secret, token_hash(token), request.headers.get(CSRF_HEADER)
        ):
            raise ForbiddenError(
                "the request has no valid CSRF token", hint="Reload the page and try again"
            )
        return user

    def csrf(self, token: str) -> str:
        """The CSRF token of a session."""
        return csrf_token(self.secret, token_hash(token))

    def services_for(self, user: UserRecord) -> Services:
        """The services that see only ``user``'s data (one set per user, reused)."""
        view = self._views.get(user.id)
        if view is None:
            view = self._views[user.id] = self.services.for_user(user.id)
        return view

    async def aclose(self) -> None:
        """Close the providers of every user view."""
        for view in self._views.values():
            await view.close_providers()
        self._views.clear()
