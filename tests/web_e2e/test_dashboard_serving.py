"""How the web app serves the built dashboard (no browser needed): the page, its assets, its policies."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from elcaro.web import dashboard


@pytest.fixture
def built(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text('<!doctype html><script type="module" src="/assets/app-1a2b.js"></script>')
    (tmp_path / "assets" / "app-1a2b.js").write_text("console.log('dashboard')")
    return tmp_path


def _client(directory: Path) -> httpx.AsyncClient:
    app = FastAPI()

    @app.get("/api/v1/me")
    async def me() -> dict[str, int]:
        return {"id": 1}

    dashboard.install(app, directory)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def test_every_page_path_answers_the_single_page_with_its_policy(built: Path) -> None:
    async with _client(built) as client:
        for path in ("/", "/app", "/app/positions", "/app/admin/users"):
            answer = await client.get(path)
            assert answer.status_code == 200, path
            assert answer.text.startswith("<!doctype html>")
            assert answer.headers["cache-control"] == "no-cache"
            policy = answer.headers["content-security-policy"]
            assert "default-src 'self'" in policy and "script-src 'self'" in policy and "'unsafe-inline'" not in policy
            assert answer.headers["x-content-type-options"] == "nosniff"
        assert (await client.get("/api/v1/me")).json() == {"id": 1}  # the API is untouched


async def test_assets_are_cached_for_good_and_a_missing_one_is_not_found(built: Path) -> None:
    async with _client(built) as client:
        asset = await client.get("/assets/app-1a2b.js")
        assert asset.status_code == 200 and "dashboard" in asset.text
        assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert (await client.get("/assets/other.js")).status_code == 404
        assert (await client.get("/assets/../index.html")).status_code == 404


async def test_before_the_first_build_the_page_says_how_to_build_it(tmp_path: Path) -> None:
    async with _client(tmp_path / "not-built") as client:
        page = await client.get("/app/portfolio")
        assert page.status_code == 503
        assert page.json()["error"]["code"] == "not_built" and "make run" in page.json()["error"]["message"]
        assert (await client.get("/assets/app.js")).status_code == 404


def test_the_page_paths_stay_out_of_the_api_description(built: Path) -> None:
    app = FastAPI()
    dashboard.install(app, built)
    assert app.openapi()["paths"] == {}
