"""Login, logout and who am I (meaningful when the server runs with accounts)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from pytavern.engine.services import UserRecord
from pytavern.server.auth import SESSION_COOKIE, Accounts

router = APIRouter(prefix="/api/auth", tags=["auth"])


class LoginBody(BaseModel):
    """A user name and password."""

    name: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=1000)


def _state(accounts: Accounts | None, user: UserRecord | None, token: str | None) -> dict[str, Any]:
    return {
        "accounts": accounts is not None,
        "user": {"name": user.name, "is_admin": user.is_admin} if user else None,
        "csrf": accounts.csrf(token) if accounts and user and token else None,
    }


@router.get("/me")
async def me(request: Request) -> dict[str, Any]:
    """Whether accounts are on, who is logged in, and the session's CSRF token."""
    accounts: Accounts | None = request.app.state.accounts
    if accounts is None:
        return _state(None, None, None)
    user = accounts.user(request)
    return _state(accounts, user, request.cookies.get(SESSION_COOKIE))


@router.post("/login")
async def login(body: LoginBody, request: Request, response: Response) -> dict[str, Any]:
    """Log in: sets the session cookie (HttpOnly, SameSite=Strict)."""
    accounts: Accounts | None = request.app.state.accounts
    if accounts is None:
        return _state(None, None, None)
    client = request.client.host if request.client else "?"
    token, user = accounts.login(body.name, body.password, client)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(accounts.session_hours * 3600),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return _state(accounts, user, token)


@router.post("/logout")
async def logout(request: Request, response: Response) -> dict[str, Any]:
    """Log out: ends the session (its CSRF token needed) and clears its cookie."""
    accounts: Accounts | None = request.app.state.accounts
    if accounts is not None:
        if accounts.user(request) is not None:
            accounts.require(request)
        accounts.logout(request)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return _state(accounts, None, None)
