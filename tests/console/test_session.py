"""The console's cookie session: flags on the cookie, and the idle timeout signing a person out."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
from flask import Flask

from server.app import create_app
from server.config import TokenLifetimes
from tests.conftest import PASSWORD
from tests.console.conftest import TOKEN


def _sign_in(client, base_url: str = "http://localhost") -> object:
    token = TOKEN.search(client.get("/login", base_url=base_url).get_data(as_text=True)).group(1)
    data = {"csrf_token": token, "username": "supervisor_a", "password": PASSWORD}
    # The CSRF check on HTTPS also wants a same-site Referer, as a browser sends.
    return client.post("/login", data=data, base_url=base_url, headers={"Referer": f"{base_url}/login"})


def test_the_session_cookie_is_httponly_and_samesite(app: Flask, world) -> None:
    response = _sign_in(app.test_client())
    cookie = response.headers["Set-Cookie"]
    assert "fieldcheck_console=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie
    secure = _sign_in(app.test_client(), "https://localhost")
    assert "Secure" in secure.headers["Set-Cookie"]


@pytest.fixture
def idle_app(app: Flask) -> Flask:
    """The suite's database, with a console session that ends after zero idle minutes."""
    settings = app.config["FIELDCHECK"]
    return create_app(replace(settings, tokens=TokenLifetimes(console_idle_minutes=0)))


def test_an_idle_session_ends_and_says_so(idle_app: Flask, world) -> None:
    client = idle_app.test_client()
    assert _sign_in(client).status_code == 303
    time.sleep(1.1)
    response = client.get("/cases")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert "长时间未操作" in client.get(response.headers["Location"]).get_data(as_text=True)
