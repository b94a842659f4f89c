"""A console user over real HTTP: signs in through the login form, carries the CSRF token like a browser."""

from __future__ import annotations

import re

import pytest
import requests

from tests.conftest import PASSWORD

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


class Console:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = requests.Session()

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.http.get(f"{self.base_url}{path}", timeout=60, **kwargs)

    def token(self, path: str = "/login") -> str:
        return TOKEN.search(self.get(path).text).group(1)

    def post(self, path: str, data: dict, *, token_from: str | None = None, **kwargs) -> requests.Response:
        data = {"csrf_token": self.token(token_from or path), **data}
        return self.http.post(f"{self.base_url}{path}", data=data, timeout=60, **kwargs)

    def sign_in(self, username: str, password: str = PASSWORD) -> Console:
        response = self.post("/login", {"username": username, "password": password})
        assert response.status_code == 200 and "/login" not in response.url, response.text[:500]
        return self


@pytest.fixture
def console(live_url: str, world: dict[str, str]):
    """A browser-like client factory: console("supervisor_a") is signed in as that account."""
    return lambda username: Console(live_url).sign_in(username)
