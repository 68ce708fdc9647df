"""`syncer ping`: the URL, the token and each application's read scopes, checked without a write
and without a secret; exit 0 only when every check passed."""

from __future__ import annotations

import json
from pathlib import Path

from syncer import __version__
from syncer.emulator.testing import running_emulator
from tests.builders import APP, FLEET, particle
from tests.e2e import run, tree

NEEDS_SECRET = particle("Trackers", "${env:UNSET_PARTICLE_TOKEN}")


def test_every_check_passes_with_a_full_token_and_no_secret_set(tmp_path: Path) -> None:
    with running_emulator() as running:
        result = run(running, "ping", str(tree(tmp_path, NEEDS_SECRET)))
        assert [r["method"] for r in running.emulator.log] == ["GET", "GET", "GET"]
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"ok    API {running.url}: reachable; the token is accepted",
        f"ok    application {APP}: integrations: readable",
        f"ok    application {APP}: service credentials: readable",
        f"ok    application {APP}: workflows: readable",
        "--    write scopes not checked: only a write could tell (apply names the scope it lacks)",
        "4 of 4 checks passed",
    ]


def test_a_missing_read_scope_fails_naming_the_scopes_that_would_do(tmp_path: Path) -> None:
    with running_emulator(tokens={"narrow": ("integrations.get", "credentials.get")}) as running:
        result = run(running, "ping", str(tree(tmp_path, NEEDS_SECRET)), token="narrow")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[3] == (
        f"FAIL  application {APP}: workflows: not readable (needs one of all.Application, "
        "all.Application.bounded, all.Application.read, all.Organization, all.Organization.bounded, "
        "all.Organization.read, all.User, all.User.bounded, all.User.read, flows.*, flows.get)"
    )
    assert result.stdout.splitlines()[-1] == "3 of 4 checks passed"


def test_a_rejected_token_is_one_failed_check_and_the_token_is_never_shown(tmp_path: Path) -> None:
    with running_emulator() as running:
        result = run(running, "ping", str(tree(tmp_path, NEEDS_SECRET)), token="wrong-token-123456")
    assert result.exit_code == 1
    assert "wrong-token-123456" not in result.output
    assert result.stdout.splitlines()[0].startswith(
        f"FAIL  API {running.url}: GET /applications/{APP}/integrations: 401 Unauthorized"
    )
    assert result.stdout.splitlines()[-1] == "0 of 1 check passed"


def test_an_unknown_application_fails_and_json_says_so(tmp_path: Path) -> None:
    with running_emulator(auto_create_applications=False) as running:
        result = run(running, "ping", "--application", FLEET, "--format", "json")
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {
        "formatVersion": 1,
        "syncerVersion": __version__,
        "ok": False,
        "checks": [
            {"subject": f"API {running.url}", "ok": True, "detail": "reachable; the token is accepted"},
            {
                "subject": f"application {FLEET}",
                "ok": False,
                "detail": "not found: check the id, and the token's organization",
            },
        ],
        "notChecked": ["write scopes not checked: only a write could tell (apply names the scope it lacks)"],
    }


def test_a_bad_application_id_is_refused_before_any_request(tmp_path: Path) -> None:
    with running_emulator() as running:
        result = run(running, "ping", "--application", "not-an-id")
        assert running.emulator.log == []
    assert result.exit_code == 1
    assert result.stderr == "--application 'not-an-id' is not a Losant id (24 hexadecimal characters)\n"
