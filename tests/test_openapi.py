"""The checked-in OpenAPI document is what the code generates."""

from pathlib import Path

from server.cli import render_openapi

SPEC = Path(__file__).resolve().parent.parent / "api_spec" / "openapi.json"


def test_checked_in_spec_matches_the_code(app):
    with app.app_context():
        generated = render_openapi()
    assert SPEC.read_text() == generated, "api_spec/openapi.json is stale: run `make openapi` and commit it"


def test_docs_are_served_with_local_assets(live_url):
    import requests

    page = requests.get(f"{live_url}/docs", timeout=10)
    assert page.status_code == 200
    assert "/docs/assets/swagger-ui-bundle.js" in page.text
    assert requests.get(f"{live_url}/docs/assets/swagger-ui-bundle.js", timeout=10).status_code == 200
