"""A portal on the tiny preset for the portal tests: its accounts with their passwords, a
TestClient per user, and the CSRF token read from a page as a browser would."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from starlette.testclient import TestClient

TINY = str(Path(__file__).parents[1] / "fixtures" / "presets" / "tiny.yaml")
YEAR = 2024
SECRET = "test-secret-" + "x" * 40
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
# hashing a dozen passwords with Argon2 takes seconds: each year's accounts are issued once per
# test process and the store file is copied into every test's own DTI_HOME
_STORES: dict[int, tuple[bytes, dict[str, str]]] = {}


@dataclass
class Portal:
    app: object
    passwords: dict[str, str]
    preset: object

    def client(self) -> TestClient:
        return TestClient(self.app, follow_redirects=False)

    def logged_in(self, login: str) -> TestClient:
        client = self.client()
        response = log_in(client, login, self.passwords[login])
        assert response.status_code == 303, response.text
        return client


def make_portal(year: int = YEAR) -> Portal:
    """Accounts for every unit of ``year`` in the store under ``$DTI_HOME`` and the app."""
    from dti_portal.accounts import issue_accounts
    from dti_portal.app import PortalConfig, create_app
    from dti_portal.pipeline import load_preset
    from dti_portal.store import connect, store_path

    preset = load_preset(TINY)
    path = store_path()
    if year not in _STORES:
        with connect() as con:
            issued = issue_accounts(con, preset, year)
        _STORES[year] = (path.read_bytes(), {i.login: i.password for i in issued})
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(_STORES[year][0])
        path.chmod(0o600)
    app = create_app(PortalConfig(preset, year, SECRET))
    return Portal(app, dict(_STORES[year][1]), preset)


def csrf(client: TestClient, url: str) -> str:
    """The CSRF token of the form on ``url``."""
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    found = _CSRF.search(response.text)
    assert found, url
    return found.group(1)


def log_in(client: TestClient, login: str, password: str):
    token = csrf(client, "/login")
    return client.post("/login", data={"csrf": token, "login": login, "password": password})
