"""`syncer plan` through the real CLI against the emulator."""

from __future__ import annotations

import functools
import gzip
import json
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, ClassVar

import pytest

from syncer import demo
from syncer.emulator.server import RunningEmulator
from syncer.emulator.testing import running_emulator
from tests.builders import APP, FLEET, PARTICLE, PARTICLE_TOKEN
from tests.e2e import EXAMPLE_ENV, EXAMPLES, api_requests, run, seed_example_credentials, tree, writes
from tests.helpers import JsonApi, failed, serving, syncer

# "Line 1 broker" as examples/integrations declares it: the demo's, before its port was edited live
LINE1: dict[str, Any] = {
    **demo.LINE1,
    "mqttConfig": {**demo.LINE1["mqttConfig"], "port": 8883, "password": EXAMPLE_ENV["LINE1_MQTT_PASSWORD"]},
}


def _seed_drifted_examples(running: RunningEmulator) -> None:
    running.emulator.store.applications.setdefault(FLEET, {})
    seed_example_credentials(running)
    drifted = {**LINE1, "mqttConfig": {**LINE1["mqttConfig"], "port": 1883}}
    running.emulator.seed(APP, [drifted, {**PARTICLE, "name": "Manual bridge"}])
    running.emulator.seed(
        FLEET,
        [
            {
                "name": "Dispatch websocket",
                "integrationType": "websocket",
                "websocketConfig": {"url": "wss://dispatch.example.com/api/socket"},
            },
            {
                "name": "Old GPS bridge",
                "integrationType": "particle",
                "particleConfig": {"accessToken": "old-gps-1"},
            },
        ],
    )


@pytest.mark.parametrize("secrets", ["echo", "omit"])
def test_plan_of_the_examples_in_both_secret_modes(secrets: str) -> None:
    with running_emulator(secrets=secrets) as running:
        _seed_drifted_examples(running)
        result = run(running, "plan", str(EXAMPLES), "--format", "json", env=dict(EXAMPLE_ENV))
        assert result.exit_code == 0, result.stderr
        plan = json.loads(result.stdout)
        actions = sorted((c["action"], c["name"]) for c in plan["changes"])
        assert actions == [
            ("create", "Historian (Pub/Sub)"),
            ("create", "Line 2 broker"),
            ("create", "Quality events (Event Hub)"),
            ("create", "Telematics queue"),
            ("create", "Trackers (Particle)"),
            ("delete", "Old GPS bridge"),
            ("update", "Dispatch feed"),
            ("update", "Line 1 broker"),
        ]
        line1 = next(c for c in plan["changes"] if c["name"] == "Line 1 broker")
        if secrets == "echo":
            assert [f["path"] for f in line1["fields"]] == ["mqttConfig.port"]
        else:  # the password cannot be read back: it is sent with the config, value unknown
            assert line1["fields"][0] == {
                "path": "mqttConfig.password",
                "sensitive": True,
                "after": "(sensitive)",
            }
            assert [f["path"] for f in line1["fields"][1:]] == ["mqttConfig.port"]
        [request] = line1["requests"]
        assert request["method"] == "PATCH"
        assert request["body"]["mqttConfig"]["password"] == "(sensitive)"
        assert request["body"]["mqttConfig"]["port"] == 8883
        assert plan["unmanaged"][0]["name"] == "Manual bridge"
        for secret in [*EXAMPLE_ENV.values(), PARTICLE_TOKEN, "old-gps-1", "emulator-token"]:
            assert secret not in result.output
        assert writes(running) == []


def test_omit_mode_an_unreturned_secret_alone_causes_no_change(tmp_path: Path) -> None:
    with running_emulator(secrets="omit") as running:
        running.emulator.seed(APP, [{**LINE1, "mqttConfig": {**LINE1["mqttConfig"], "password": "rotated"}}])
        result = run(running, "plan", str(tree(tmp_path, LINE1)), "--detailed-exitcode")
        assert (result.exit_code, result.stdout) == (0, "No changes. Live state matches the files.\n")


def test_text_plan_is_readable_and_masked(losant_emulator: RunningEmulator) -> None:
    _seed_drifted_examples(losant_emulator)
    result = run(losant_emulator, "plan", str(EXAMPLES), env=dict(EXAMPLE_ENV))
    lines = result.stdout.splitlines()
    assert f"Application {APP}" in lines
    assert "      ~ mqttConfig.port: 1883 -> 8883" in lines
    assert "      + particleConfig.accessToken: (sensitive)" in lines
    assert '      ~ name: "Dispatch websocket" -> "Dispatch feed"' in lines
    assert lines[-1] == "Plan: 5 to create, 2 to update, 1 to delete."
    assert "\x1b[" not in result.stdout  # no colours when not a terminal


def test_colours_only_when_asked_and_never_with_no_color(
    losant_emulator: RunningEmulator, tmp_path: Path
) -> None:
    files = str(tree(tmp_path, PARTICLE))
    plan = functools.partial(run, losant_emulator, "plan", files)
    assert "\x1b[32m+ create" in plan("--color", "always").stdout
    assert "\x1b[" not in plan().stdout  # auto, and not a terminal
    assert "\x1b[32m+ create" in plan(env={"FORCE_COLOR": "1"}).stdout
    assert "\x1b[" not in plan(env={"FORCE_COLOR": "1", "NO_COLOR": "1"}).stdout
    assert "\x1b[32m+ create" in plan(env={"FORCE_COLOR": "1", "NO_COLOR": ""}).stdout  # empty: not set
    # the command line wins over the environment (no-color.org)
    assert "\x1b[32m+ create" in plan("--color", "always", env={"NO_COLOR": "1"}).stdout
    assert "\x1b[" not in plan("--color", "never", env={"FORCE_COLOR": "1"}).stdout


def test_detailed_exitcode(losant_emulator: RunningEmulator, tmp_path: Path) -> None:
    files = str(tree(tmp_path, PARTICLE))
    assert run(losant_emulator, "plan", files).exit_code == 0
    changes = run(losant_emulator, "plan", files, "--detailed-exitcode")
    assert changes.exit_code == 2
    assert changes.stdout.endswith("Plan: 1 to create, 0 to update, 0 to delete.\n")
    losant_emulator.emulator.seed(APP, [PARTICLE])
    same = run(losant_emulator, "plan", files, "--detailed-exitcode")
    assert (same.exit_code, same.stdout) == (0, "No changes. Live state matches the files.\n")
    assert run(losant_emulator, "plan", files, "--detailed-exitcode", token="wrong").exit_code == 1


def test_plan_costs_ceil_n_over_1000_list_requests(losant_emulator: RunningEmulator, tmp_path: Path) -> None:
    from syncer.emulator.samples import sample_integration

    bodies = [sample_integration(i) for i in range(2500)]
    losant_emulator.emulator.seed(APP, bodies)
    credential = {"name": "gcp-service-account", "type": "gcp", "gcpConfig": {"keyJson": "{}"}}
    losant_emulator.emulator.seed_credentials(APP, [credential])
    result = run(losant_emulator, "plan", str(tree(tmp_path, *bodies)), "--detailed-exitcode")
    assert (result.exit_code, result.stdout) == (0, "No changes. Live state matches the files.\n")
    sent = api_requests(losant_emulator)
    lists = [r for r in sent if r["path"] == f"/applications/{APP}/integrations"]
    assert len(lists) == len(sent) - 1 == 3  # and one read of the credentials the files name
    assert sorted(r["query"]["page"] for r in lists) == ["0", "1", "2"]
    assert {r["query"]["perPage"] for r in lists} == {"1000"}
    assert [r["path"] for r in sent if r not in lists] == [f"/applications/{APP}/credentials"]


def test_several_applications_are_read_in_one_run(losant_emulator: RunningEmulator, tmp_path: Path) -> None:
    losant_emulator.emulator.store.applications.setdefault(FLEET, {})
    tree(tmp_path / "a", PARTICLE)
    tree(tmp_path / "b", PARTICLE, app=FLEET)
    assert run(losant_emulator, "plan", str(tmp_path)).exit_code == 0
    assert sorted(r["path"] for r in api_requests(losant_emulator)) == sorted(
        f"/applications/{a}/integrations" for a in (APP, FLEET)
    )


def test_incomplete_read_stops_before_planning(losant_emulator: RunningEmulator, tmp_path: Path) -> None:
    losant_emulator.emulator.seed(APP, [PARTICLE])
    losant_emulator.emulator.faults.rules.append(_rule("lie", on=("list",), extra=3))
    result = run(losant_emulator, "plan", str(tree(tmp_path, LINE1)), "--prune")
    assert failed(result) == (
        f"live state of application {APP} is incomplete: the API reported 4 integrations, "
        "but page 0 served 1 where 4 were due; "
        "syncer stops before planning so a partial view cannot cause deletions or duplicates: run again, "
        "and report it if it persists"
    )
    assert result.stdout == ""


def _rule(kind: str, **options: Any) -> Any:
    from syncer.emulator.faults import FaultRule

    return FaultRule(kind, **options)


def test_429_storms_and_5xx_bursts_are_retried(losant_emulator: RunningEmulator, tmp_path: Path) -> None:
    losant_emulator.emulator.faults.rules += [
        _rule("429", on=("list",), times=2, retry_after="0"),
        _rule("503", on=("list",), times=1),
        _rule("reset", on=("list",), times=1),
    ]
    result = run(losant_emulator, "plan", str(tree(tmp_path, PARTICLE)))
    assert result.exit_code == 0, result.stderr
    statuses = [r["status"] for r in api_requests(losant_emulator)]
    assert statuses == [429, 429, 503, 0, 200]  # 0: the reset connection


def test_retries_are_bounded(losant_emulator: RunningEmulator, tmp_path: Path) -> None:
    losant_emulator.emulator.faults.rules.append(_rule("500", on=("list",)))
    result = run(losant_emulator, "plan", str(tree(tmp_path, PARTICLE)), "--max-attempts", "3")
    assert failed(result) == (
        f"GET /applications/{APP}/integrations: 500 Error: Internal server error (gave up after 3 attempts)"
    )
    assert len(api_requests(losant_emulator)) == 3


def _read_refused(running: RunningEmulator, tmp_path: Path, token: str) -> str:
    """plan with a token Losant refuses: the one-line error, after the request it names (the token
    itself never shown)."""
    result = run(running, "plan", str(tree(tmp_path, PARTICLE)), token=token)
    request = f"GET /applications/{APP}/integrations: "
    assert failed(result).startswith(request)
    assert token not in result.output
    return failed(result).removeprefix(request)


def test_invalid_token(losant_emulator: RunningEmulator, tmp_path: Path) -> None:
    assert _read_refused(losant_emulator, tmp_path, "expired-or-wrong") == (
        "401 Unauthorized: Invalid access token; the API token is invalid or expired: create a new token "
        "and set LOSANT_API_TOKEN (or --token-file)"
    )


def test_missing_token_and_token_file(losant_emulator: RunningEmulator, tmp_path: Path) -> None:
    files = str(tree(tmp_path / "t", PARTICLE))
    result = run(losant_emulator, "plan", files, env={"LOSANT_API_TOKEN": None})
    assert failed(result) == (
        "no API token: set LOSANT_API_TOKEN, or pass --token-file FILE "
        "(never the token itself on the command line)"
    )
    token_file = tmp_path / "token"
    token_file.write_text("emulator-token\n")
    result = run(
        losant_emulator, "plan", files, "--token-file", str(token_file), env={"LOSANT_API_TOKEN": None}
    )
    assert result.exit_code == 0, result.stderr
    assert api_requests(losant_emulator) != []


def test_missing_scope_names_the_scopes_needed(losant_emulator: RunningEmulator, tmp_path: Path) -> None:
    losant_emulator.emulator.tokens["device-only"] = ("device.get",)
    assert _read_refused(losant_emulator, tmp_path, "device-only") == (
        "403 Forbidden: Access is forbidden; the token may not list "
        "integrations: it needs one of these scopes: all.Application, all.Application.bounded, "
        "all.Application.read, all.Organization, all.Organization.bounded, all.Organization.read, "
        "all.User, all.User.bounded, all.User.read, integrations.*, integrations.get"
    )


def test_unknown_application(losant_emulator: RunningEmulator, tmp_path: Path) -> None:
    result = run(losant_emulator, "plan", str(tree(tmp_path, PARTICLE, app=FLEET)))
    assert failed(result) == (
        f"GET /applications/{FLEET}/integrations: 404 NotFound: Application was not found; check the "
        "application id in your files, and that the token belongs to its organization"
    )


def test_duplicate_live_names_are_an_error(losant_emulator: RunningEmulator, tmp_path: Path) -> None:
    twins = losant_emulator.emulator.seed(APP, [PARTICLE, PARTICLE])
    result = run(losant_emulator, "plan", str(tree(tmp_path, PARTICLE)))
    assert f"(ids {twins[0]['id']}, {twins[1]['id']})" in failed(result)


def test_plain_http_to_another_host_is_refused(tmp_path: Path) -> None:
    files = str(tree(tmp_path, PARTICLE))
    result = syncer("plan", files, "--api-url", "http://api.example.com", env={"LOSANT_API_TOKEN": "t0ken"})
    assert failed(result) == (
        "refusing http:// to api.example.com: the token would travel unencrypted; use https:// "
        "(plain http is allowed only to a loopback address such as the emulator)"
    )


class _Recorder(BaseHTTPRequestHandler):
    seen: ClassVar[list[dict[str, str]]] = []
    target = ""

    def do_GET(self) -> None:
        type(self).seen.append({k.lower(): v for k, v in self.headers.items()})
        if self.target:
            self.send_response(301)
            self.send_header("Location", self.target + self.path)
        else:
            self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _recorder(target: str = "") -> type[_Recorder]:
    """A server that records the headers of what reaches it, redirecting to `target` if given."""
    return type("Recorder", (_Recorder,), {"seen": [], "target": target})


def test_redirects_are_not_followed_so_the_token_stays_home(tmp_path: Path) -> None:
    other = _recorder()
    with serving(other) as other_url:
        redirector = _recorder(target=other_url.replace("127.0.0.1", "localhost"))
        with serving(redirector) as url:
            files = str(tree(tmp_path, PARTICLE))
            result = syncer("plan", files, "--api-url", url, env={"LOSANT_API_TOKEN": "t0ken-xyz"})
    assert "the API answered 301 redirecting to localhost:" in failed(result)
    assert "syncer follows no redirect" in result.stderr
    assert redirector.seen[0]["authorization"] == "Bearer t0ken-xyz"
    assert other.seen == []


def test_a_redirect_to_a_long_address_is_named_in_one_short_line(tmp_path: Path) -> None:
    redirector = _recorder(target="http://" + "a" * 20_000 + ".example/")
    with serving(redirector) as url:
        result = syncer(
            "plan", str(tree(tmp_path, PARTICLE)), "--api-url", url, env={"LOSANT_API_TOKEN": "t0ken-xyz"}
        )
    [line] = failed(result).splitlines()
    assert len(line) < 500
    assert f"redirecting to {'a' * 200}…;" in line


@pytest.mark.parametrize("command", ["plan", "apply", "drift"])
def test_a_project_file_cannot_send_the_token_to_a_host_of_its_choice(command: str, tmp_path: Path) -> None:
    catcher = _recorder()
    with serving(catcher) as url:
        files = str(tree(tmp_path, PARTICLE, project={"apiUrl": url}))
        env = {"LOSANT_API_TOKEN": "t0ken-xyz", "LOSANT_API_URL": None}
        extra = ["--auto-approve"] if command == "apply" else []
        result = syncer(command, files, *extra, env=env)
        assert failed(result) == (
            f"{tmp_path / 'syncer.yaml'}:1:9: apiUrl: '{url}' is not a Losant host, and a URL read from a "
            "file under review may only name one (https://*.losant.com); confirm it with --api-url or "
            "LOSANT_API_URL"
        )
        assert catcher.seen == []
        # confirmed by the operator, the same URL is used
        confirmed = syncer(command, files, "--api-url", url, env=env)
        assert catcher.seen
        assert "is not a Losant host" not in confirmed.output


@pytest.mark.parametrize(
    "url",
    [
        "http://user:s3cr3t-pw@127.0.0.1:{port}",
        "http://127.0.0.1:{port}/?access_token=x",
        "http://127.0.0.1:{port}\n",
    ],
)
def test_a_bad_api_url_stops_before_any_request(url: str, tmp_path: Path) -> None:
    catcher = _recorder()
    with serving(catcher) as served:
        given = url.format(port=served.rsplit(":", 1)[1])
        result = syncer(
            "plan", str(tree(tmp_path, PARTICLE)), env={"LOSANT_API_TOKEN": "t0ken", "LOSANT_API_URL": given}
        )
        assert result.exit_code == 1
        assert len(result.stderr.splitlines()) == 1
        assert "internal error" not in result.stderr
        assert "s3cr3t-pw" not in result.stderr
        assert catcher.seen == []


def test_debug_trace_redacts_token_and_secrets(losant_emulator: RunningEmulator, tmp_path: Path) -> None:
    losant_emulator.emulator.seed(
        APP, [{**LINE1, "mqttConfig": {**LINE1["mqttConfig"], "password": "old-pass-77"}}]
    )
    result = run(losant_emulator, "--debug", "plan", str(tree(tmp_path, LINE1)))
    assert result.exit_code == 0
    assert "debug: -> GET /applications/" in result.stderr
    assert "Authorization: Bearer (redacted)" in result.stderr
    for secret in ("emulator-token", LINE1["mqttConfig"]["password"], "old-pass-77"):
        assert secret not in result.output


def test_markdown_stays_under_the_comment_limit(losant_emulator: RunningEmulator, tmp_path: Path) -> None:
    from syncer.emulator.samples import sample_integration

    bodies = [sample_integration(i) for i in range(1500)]
    credential = {"name": "gcp-service-account", "type": "gcp", "gcpConfig": {"keyJson": "{}"}}
    losant_emulator.emulator.seed_credentials(APP, [credential])
    result = run(losant_emulator, "plan", str(tree(tmp_path, *bodies)), "--format", "markdown")
    assert result.exit_code == 0
    text = result.stdout
    assert len(text) < 60_000
    assert text.startswith(
        "<!-- syncer-plan -->\n### syncer plan\n\n**Plan: 1500 to create, 0 to update, 0 to delete.**"
    )
    assert "_Cut to fit: " in text
    assert "s3cret-value" not in text
    small = run(losant_emulator, "plan", str(tree(tmp_path / "s", PARTICLE)), "--format", "markdown").stdout
    assert "<details><summary>Application <code>" in small
    assert "Cut to fit" not in small


def test_json_plan_follows_its_published_schema(losant_emulator: RunningEmulator) -> None:
    from jsonschema import Draft202012Validator

    schema = json.loads((Path(__file__).parent.parent / "schema" / "plan-v1.schema.json").read_text())
    Draft202012Validator.check_schema(schema)
    _seed_drifted_examples(losant_emulator)
    losant_emulator.emulator.seed(
        FLEET,
        [
            {
                "name": "Telematics queue",
                "integrationType": "mqtt",
                "mqttConfig": {"host": "h", "port": 1, "protocol": "mqtt"},
            }
        ],
    )
    result = run(losant_emulator, "plan", str(EXAMPLES), "--format", "json", env=dict(EXAMPLE_ENV))
    plan = json.loads(result.stdout)
    assert list(Draft202012Validator(schema).iter_errors(plan)) == []
    assert {c["action"] for c in plan["changes"]} == {"create", "update", "delete", "replace"}
    empty = json.loads(
        run(
            losant_emulator,
            "plan",
            str(EXAMPLES),
            "--format",
            "json",
            env={**EXAMPLE_ENV, "LINE1_MQTT_PASSWORD": "x"},
        ).stdout
    )
    assert list(Draft202012Validator(schema).iter_errors(empty)) == []


class _GzipBomb(JsonApi):
    """A list answer of 70 KB that decompresses to 70 MiB."""

    payload = gzip.compress(b" " * (70 * 1024 * 1024), compresslevel=9)

    def answer(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(self.payload)))
        self.end_headers()
        self.wfile.write(self.payload)


def test_an_answer_too_large_once_decompressed_is_not_read(tmp_path: Path) -> None:
    with serving(_GzipBomb) as url:
        result = syncer(
            "plan", str(tree(tmp_path, PARTICLE)), "--api-url", url, env={"LOSANT_API_TOKEN": "t0ken-xyz"}
        )
    assert failed(result) == (
        f"GET /applications/{APP}/integrations: the answer (200) is over 64 MiB once decompressed, more "
        "than any of Losant's; it was not read; not retried"
    )
