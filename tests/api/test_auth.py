"""User accounts, login, tokens and per-user isolation."""

from __future__ import annotations

import base64
import io
import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from ondemand.accounts import AccountFile
from ondemand.demo import ensure_demo_catalog
from ondemand.errors import ArgumentInvalid
from ondemand.login_failures import SharedFailureThrottle
from ondemand.settings import Settings
from ondemand.store import Database
from services import create_app
from services.cli import exposure_problem, main
from tests.support.seed import use_case_1_job


def basic(name: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{name}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def own_state(demo_data_dir: Path, data_dir: Path, **options: object) -> Settings:
    """Settings serving the demo catalog with their own data dir: failed logins counted
    in its job store (shared by a server's processes) start from zero for each server."""
    return Settings(data_dir=data_dir, catalogs=tuple(ensure_demo_catalog(demo_data_dir)),
                    **options)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def users_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("users") / "users.json"
    accounts = AccountFile(path)
    accounts.add("alice", "correct horse")
    accounts.add("bob", "battery staple")
    return path


@pytest.fixture(scope="module")
def secured(demo_data_dir: Path, users_file: Path,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = own_state(demo_data_dir, tmp_path_factory.mktemp("secured"),
                         users_file=users_file)
    with TestClient(create_app(settings)) as client:
        yield client


def test_passwords_are_stored_salted_and_hashed(users_file: Path) -> None:
    text = users_file.read_text()
    assert "correct horse" not in text and "battery staple" not in text
    users = json.loads(text)["users"]
    assert len({u["salt"] for u in users}) == 2
    assert stat.S_IMODE(users_file.stat().st_mode) == 0o600
    accounts = AccountFile(users_file).load()
    assert accounts["alice"].verify("correct horse")
    assert not accounts["alice"].verify("correct horsE")


@pytest.mark.parametrize("name", ["me", "../x", "", "a/b", "x" * 65, "local"])
def test_unsafe_or_reserved_names_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(ArgumentInvalid):
        AccountFile(tmp_path / "u.json").add(name, "long enough")


def test_short_password_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ArgumentInvalid, match="at least"):
        AccountFile(tmp_path / "u.json").add("carol", "short")


def test_users_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "users.json"
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret-password\n"))
    assert main(["users", "add", "--file", str(path), "carol"]) == 0
    assert AccountFile(path).load()["carol"].verify("s3cret-password")
    assert main(["users", "list", "--file", str(path)]) == 0
    assert "carol" in capsys.readouterr().out
    assert main(["users", "remove", "--file", str(path), "carol"]) == 0
    assert AccountFile(path).load() == {}
    assert main(["users", "remove", "--file", str(path), "carol"]) == 2


@pytest.mark.parametrize(
    ("host", "users", "insecure", "refused"),
    [
        ("127.0.0.1", None, False, False),
        ("localhost", None, False, False),
        ("::1", None, False, False),
        ("0.0.0.0", None, False, True),
        ("0.0.0.0", None, True, False),
        ("0.0.0.0", Path("users.json"), False, False),
    ],
)
def test_open_binding_needs_accounts(
    host: str, users: Path | None, insecure: bool, refused: bool
) -> None:
    problem = exposure_problem(Settings(host=host, users_file=users, insecure=insecure))
    assert (problem is not None) == refused
    if refused:
        assert problem is not None and "--users" in problem and "--insecure" in problem


def test_serve_refuses_open_binding(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--host", "0.0.0.0"]) == 2
    assert "Refusing" in capsys.readouterr().err


def test_anonymous_request_is_401_with_challenge(secured: TestClient) -> None:
    response = secured.get("/jobs")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Basic")
    assert set(response.json()) == {"code", "message"}


def test_discovery_stays_public(secured: TestClient) -> None:
    assert secured.get("/data").status_code == 200
    assert secured.get("/processes/NDVI").status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param(basic("alice", "wrong password"), id="wrong-password"),
        pytest.param(basic("mallory", "correct horse"), id="unknown-user"),
        pytest.param({"Authorization": "Bearer not-a-token"}, id="bad-token"),
        pytest.param({"Authorization": "Digest abc"}, id="other-scheme"),
        pytest.param({"Authorization": "Basic !!!"}, id="garbage"),
    ],
)
def test_bad_credentials_are_403(secured: TestClient, headers: dict[str, str]) -> None:
    response = secured.get("/jobs", headers=headers)
    assert response.status_code == 403
    assert response.json()["code"] == 4002


def test_login_token_and_logout(secured: TestClient) -> None:
    login = secured.get("/auth/login", headers=basic("alice", "correct horse"))
    assert login.status_code == 200
    body = login.json()
    assert body["user_id"] == "alice" and len(body["token"]) >= 40
    bearer = {"Authorization": f"Bearer {body['token']}"}
    assert secured.get("/jobs", headers=bearer).status_code == 200
    assert secured.post("/auth/logout", headers=bearer).status_code == 204
    assert secured.get("/jobs", headers=bearer).status_code == 403


def test_tokens_expire(demo_data_dir: Path, users_file: Path) -> None:
    settings = Settings(
        data_dir=demo_data_dir, demo=True, users_file=users_file, token_ttl_seconds=-1
    )
    with TestClient(create_app(settings)) as client:
        token = client.get("/auth/login", headers=basic("bob", "battery staple")).json()["token"]
        response = client.get("/jobs", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 403


def test_users_see_only_their_own_jobs_and_services(secured: TestClient) -> None:
    alice, bob = basic("alice", "correct horse"), basic("bob", "battery staple")
    job_id = secured.post("/jobs", json=use_case_1_job(), headers=alice).json()["job_id"]
    service = secured.post(
        "/services", json={"job_id": job_id, "type": "wmts"}, headers=alice
    ).json()
    assert secured.get(f"/jobs/{job_id}", headers=alice).status_code == 200
    for method, path in [
        ("GET", f"/jobs/{job_id}"),
        ("DELETE", f"/jobs/{job_id}"),
        ("POST", f"/jobs/{job_id}/on_demand"),
        ("GET", f"/services/{service['service_id']}"),
        ("DELETE", f"/services/{service['service_id']}"),
    ]:
        response = secured.request(method, path, headers=bob)
        assert response.status_code == 404, (method, path)
        assert "does not exist" in response.json()["message"]
    assert job_id not in {j["job_id"] for j in secured.get("/jobs", headers=bob).json()}
    stolen = secured.post("/services", json={"job_id": job_id, "type": "xyz"}, headers=bob)
    assert stolen.status_code == 404
    assert secured.get(f"/jobs/{job_id}", headers=alice).status_code == 200


def test_removed_user_loses_access(secured: TestClient, users_file: Path) -> None:
    accounts = AccountFile(users_file)
    accounts.add("dave", "temporary pass")
    dave = basic("dave", "temporary pass")
    token = secured.get("/auth/login", headers=dave).json()["token"]
    assert secured.get("/jobs", headers=dave).status_code == 200
    accounts.remove("dave")
    assert secured.get("/jobs", headers=dave).status_code == 403
    assert secured.get("/jobs", headers={"Authorization": f"Bearer {token}"}).status_code == 403


@pytest.fixture
def guarded(demo_data_dir: Path, users_file: Path, tmp_path: Path) -> Iterator[TestClient]:
    settings = own_state(demo_data_dir, tmp_path, users_file=users_file,
                         login_max_failures=3, login_window_seconds=600)
    with TestClient(create_app(settings)) as client:
        yield client


def test_password_guessing_gets_429_after_the_configured_count(guarded: TestClient) -> None:
    answers = [guarded.get("/jobs", headers=basic("alice", f"guess {i}")) for i in range(5)]
    assert [a.status_code for a in answers] == [403, 403, 403, 429, 429]
    throttled = answers[3]
    assert throttled.json()["code"] == 429
    assert 0 < int(throttled.headers["retry-after"]) <= 600
    # the right password is refused too while the address is throttled: guessing stops
    assert guarded.get("/jobs", headers=basic("alice", "correct horse")).status_code == 429
    # public routes stay public
    assert guarded.get("/collections", headers=basic("alice", "guess")).status_code == 200


def test_unknown_user_names_are_counted_like_known_ones(guarded: TestClient) -> None:
    statuses = [guarded.get("/jobs", headers=basic(f"nobody{i}", "x" * 9)).status_code
                for i in range(4)]
    assert statuses == [403, 403, 403, 429]


def test_throttle_window_slides() -> None:
    from ondemand.throttle import FailureThrottle

    now = [0.0]
    throttle = FailureThrottle(2, 10.0, clock=lambda: now[0])
    keys = ("address:1.2.3.4", "user:alice")
    throttle.failed(keys)
    now[0] = 4.0
    throttle.failed(("address:5.6.7.8", "user:alice"))
    assert throttle.retry_after(keys) == 6  # the user name is over the limit until t=10
    assert throttle.retry_after(("address:1.2.3.4", "user:bob")) == 0
    now[0] = 10.5
    assert throttle.retry_after(keys) == 0
    throttle.failed(keys)
    throttle.succeeded(keys)
    assert throttle.retry_after(keys) == 0


def test_password_change_revokes_tokens(demo_data_dir: Path, tmp_path: Path) -> None:
    accounts = AccountFile(tmp_path / "users.json")
    accounts.add("carol", "first password")
    settings = Settings(data_dir=demo_data_dir, demo=True, users_file=accounts.path)
    with TestClient(create_app(settings)) as client:
        token = client.get("/auth/login", headers=basic("carol", "first password")).json()
        bearer = {"Authorization": f"Bearer {token['token']}"}
        assert client.get("/jobs", headers=bearer).status_code == 200
        accounts.add("carol", "second password")
        refused = client.get("/jobs", headers=bearer)
        assert refused.status_code == 403 and "password change" in refused.json()["message"]
        again = client.get("/auth/login", headers=basic("carol", "second password")).json()
        assert client.get("/jobs", headers={"Authorization": f"Bearer {again['token']}"}
                          ).status_code == 200


def test_failed_logins_are_shared_by_the_server_processes(
    demo_data_dir: Path, users_file: Path, tmp_path: Path
) -> None:
    """Two apps on one data dir, as ``--workers 2`` runs them: failures add up."""
    settings = own_state(demo_data_dir, tmp_path, users_file=users_file,
                         login_max_failures=3, login_window_seconds=600)
    with TestClient(create_app(settings)) as one, TestClient(create_app(settings)) as two:
        statuses = [client.get("/jobs", headers=basic("alice", f"guess {i}")).status_code
                    for i, client in enumerate((one, two, one, two, one))]
        assert statuses == [403, 403, 403, 429, 429]
        assert two.get("/jobs", headers=basic("bob", "battery staple")).status_code == 429


def test_shared_throttle_window_slides(database: Database) -> None:
    """Two throttles on one database (two processes, or two servers): one count."""
    now = [1000.0]
    first = SharedFailureThrottle(database, 2, 10.0, clock=lambda: now[0])
    second = SharedFailureThrottle(database, 2, 10.0, clock=lambda: now[0])
    keys = ("address:1.2.3.4", "user:alice")
    first.failed(keys)
    now[0] = 1004.0
    second.failed(("address:5.6.7.8", "user:alice"))
    assert first.retry_after(keys) == 6  # the user name is over the limit until t=1010
    assert second.retry_after(("address:1.2.3.4", "user:bob")) == 0
    now[0] = 1010.5
    assert second.retry_after(keys) == 0
    first.failed(keys)
    first.failed(keys)
    assert second.retry_after(keys) == 10
    second.succeeded(keys)
    assert first.retry_after(keys) == 0
    now[0] = 2000.0
    first.failed(("user:carol",))  # forgets every failure older than the window
    with database.transaction() as tx:
        assert [r["key"] for r in tx.query("SELECT key FROM login_failures")] == ["user:carol"]


def test_openeo_password_guessing_gets_429_too(guarded: TestClient) -> None:
    answers = [guarded.get("/openeo/1.2/credentials/basic", headers=basic("alice", f"g{i}"))
               for i in range(4)]
    assert [a.status_code for a in answers] == [403, 403, 403, 429]
    assert answers[3].json()["code"] == "TooManyRequests"
    assert int(answers[3].headers["retry-after"]) > 0


def test_password_checks_run_off_the_event_loop_once_per_credential(
    demo_data_dir: Path, users_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """scrypt runs in a worker thread, for unknown names too (against a dummy hash), and a
    verified credential is remembered instead of hashed again."""
    import asyncio

    from ondemand.accounts import Account

    calls: list[tuple[str, bool]] = []
    real_verify = Account.verify

    def recording_verify(self: Account, password: str) -> bool:
        try:
            asyncio.get_running_loop()
            on_loop = True
        except RuntimeError:
            on_loop = False
        calls.append((self.name, on_loop))
        return real_verify(self, password)

    monkeypatch.setattr(Account, "verify", recording_verify)
    settings = own_state(demo_data_dir, tmp_path, users_file=users_file)
    with TestClient(create_app(settings)) as client:
        for _ in range(3):
            assert client.get("/jobs", headers=basic("bob", "battery staple")).status_code == 200
        assert client.get("/jobs", headers=basic("mallory", "x" * 12)).status_code == 403
        assert client.get("/jobs", headers=basic("bob", "wrong pass")).status_code == 403
    assert [on_loop for _, on_loop in calls] == [False, False, False]
    names = [name for name, _ in calls]
    assert names[0] == "bob" and names[2] == "bob"  # remembered: one check for three requests
    assert names[1] not in ("bob", "mallory")  # the unknown name was checked against a dummy
