"""Console forms sent what no page of the console sends: a "next" address that leads to another site, an
assignee that is not an account, a role that does not exist. Each is refused in words or sent back into
the console, never a server error, never a redirect away from the site."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.conftest import PASSWORD, beneficiary_body
from tests.console.conftest import Console
from tests.support.cases import open_test_case

# Each of these leads a browser off the site: Chromium reads a backslash as a slash and drops tabs and
# newlines, so the last three are "//evil.example" too.
OFF_SITE = ["https://evil.example/", "//evil.example/", "/\\evil.example/", "/\t/evil.example/", "/\\\n\\evil.example/"]


def _lands_on_site(response, live_url: str) -> str:
    """The Location of a redirect, checked to be a path on this site; returned as such."""
    assert response.status_code == 303, response.text[:300]
    location = response.headers["Location"]
    target = urlsplit(location.replace("\\", "/"))
    assert not target.netloc or f"{target.scheme}://{target.netloc}" == live_url, location
    assert not any(ch.isspace() for ch in location), location
    return location


@pytest.mark.parametrize("target", OFF_SITE)
def test_signing_in_never_sends_the_browser_to_another_site(live_url, world, target) -> None:
    client = Console(live_url)
    response = client.post(
        "/login", {"username": "supervisor_a", "password": PASSWORD, "next": target}, allow_redirects=False
    )
    assert _lands_on_site(response, live_url).endswith("/")


def test_signing_in_returns_to_the_page_that_asked_for_it(live_url, world) -> None:
    response = Console(live_url).post(
        "/login",
        {"username": "supervisor_a", "password": PASSWORD, "next": "/cases?kind=missed_checkin"},
        allow_redirects=False,
    )
    assert _lands_on_site(response, live_url).endswith("/cases?kind=missed_checkin")


@pytest.mark.parametrize("target", OFF_SITE)
def test_the_language_switch_and_a_case_assignment_stay_on_the_site(app, api, console, live_url, world, target):
    supervisor = console("supervisor_a")
    switched = supervisor.post("/language", {"lang": "en", "next": target}, token_from="/", allow_redirects=False)
    _lands_on_site(switched, live_url)

    case, version = _open_case(app, api, world)
    assigned = supervisor.post(
        f"/cases/{case}/assign",
        {"version": str(version), "assigned_to": "me", "next": target},
        token_from="/cases",
        allow_redirects=False,
    )
    assert _lands_on_site(assigned, live_url).endswith(f"/cases/{case}")


def test_an_assignee_that_is_not_an_account_is_refused_in_words(app, api, console, world) -> None:
    supervisor = console("supervisor_a")
    case, version = _open_case(app, api, world)
    refused = supervisor.post(
        f"/cases/{case}/assign", {"version": str(version), "assigned_to": "nobody-at-all"}, token_from="/cases"
    )
    assert refused.status_code == 422 and "back-to-form" in refused.text
    # The reason names the field it is about, by the label a person knows.
    assert "经办人：无效" in refused.text
    assert api.as_("supervisor_a").get(f"/api/v1/cases/{case}").json()["assigned_to"] is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("role", "superuser"),
        ("role", ""),
        ("username", "x" * 65),
        ("region_code", "4310"),
        ("display_name", "名" * 101),
    ],
)
def test_an_account_form_the_api_would_refuse_is_refused_the_same_way(api, console, world, field, value) -> None:
    form = {"username": "new-clerk", "password": "a long enough password 9", "role": "supervisor"}
    form |= {"region_code": world["township_a"], "display_name": "新同事", field: value}
    refused = console("admin").post("/admin/staff", form)
    assert refused.status_code == 422, refused.text[:300]
    label = {"role": "角色", "username": "用户名", "region_code": "区划代码", "display_name": "姓名"}[field]
    assert f"{label}：" in refused.text
    names = [s["username"] for s in api.as_("admin").get("/api/v1/staff", params={"page_size": 100}).json()]
    assert "new-clerk" not in names and "x" * 65 not in names


def test_an_account_made_in_the_console_signs_in_with_its_password_as_typed(live_url, console, world) -> None:
    # Spaces at either end belong to the password: the form reader must not strip them.
    password = "  padded pass phrase 42  "
    form = {"username": "clerk-2", "password": password, "role": "supervisor", "region_code": world["township_a"]}
    created = console("admin").post("/admin/staff", form)
    assert created.status_code == 200 and "账号已创建" in created.text
    Console(live_url).sign_in("clerk-2", password)


def _open_case(app, api, world: dict[str, str]) -> tuple[str, int]:
    """A missed check-in case for a new person in township A, and its version."""
    supervisor = api.as_("supervisor_a")
    person = supervisor.post("/api/v1/beneficiaries", json=beneficiary_body(world["village_a"], 71)).json()["id"]
    case = open_test_case(app, person)
    return case, supervisor.get(f"/api/v1/cases/{case}").json()["version"]
