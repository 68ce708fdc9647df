"""Hostile values where the first defences did not look: the environment in syncer.yaml and in
names, secrets that look like syntax, legacy workflow commands, characters a terminal or an
encoder cannot take, and hosts and tokens that are not what they claim."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml

from syncer.emulator.testing import running_emulator
from tests.builders import APP, broker
from tests.e2e import actions_env, exported, run, tree
from tests.helpers import JsonApi, failed, serving, syncer

TOKEN = "tok3n-HOSTILE-5e21"
PARTICLE: dict[str, Any] = {"integrationType": "particle", "particleConfig": {"accessToken": "tok-12345678"}}


def test_syncer_yaml_cannot_build_the_api_url_from_the_environment(tmp_path: Path) -> None:
    project = {"apiUrl": "https://evil.example/${env:LOSANT_API_TOKEN}"}
    files = tree(tmp_path, {**PARTICLE, "name": "x"}, project=project)
    result = syncer("plan", str(files), env={"LOSANT_API_TOKEN": TOKEN, "LOSANT_API_URL": None})
    assert result.exit_code == 1
    assert TOKEN not in result.output
    assert (
        "apiUrl: apiUrl cannot read the environment: set LOSANT_API_URL (or --api-url) instead"
        in result.stderr
    )


@pytest.mark.parametrize("command", ["plan", "apply"])
def test_a_file_cannot_hand_syncers_own_credentials_to_losant(command: str, tmp_path: Path) -> None:
    """Written to Losant, an integration passes its URL, headers and tokens on: a file under
    review must not be able to put the token there (by its own name, or a copy under another)
    nor the plan key."""
    key = "plan-key-SECRET-9931"
    entries = [
        {**PARTICLE, "name": "by name", "particleConfig": {"accessToken": "${env:LOSANT_API_TOKEN}"}},
        {
            "name": "by copy",
            "integrationType": "websocket",
            "websocketConfig": {"url": "wss://evil.example/?t=${env:COPY}", "headers": []},
        },
        {**PARTICLE, "name": "by key", "particleConfig": {"accessToken": "k ${env:SYNCER_PLAN_KEY}"}},
        {**PARTICLE, "name": "fine"},
    ]
    with running_emulator(tokens={TOKEN: ("all.Application",)}) as running:
        args = ("--auto-approve",) if command == "apply" else ()
        env = {"COPY": TOKEN, "SYNCER_PLAN_KEY": key}
        result = run(running, command, *args, str(tree(tmp_path, *entries)), token=TOKEN, env=env)
        assert running.emulator.log == []  # refused before any request
    lines = failed(result).splitlines()
    own = "syncer's own credential, which it never sends to Losant"
    where = [line.split("integrations.yaml:")[1].split(f", {own}")[0] for line in lines[:3]]
    assert where == [
        "3:3: integrations[0].particleConfig.accessToken: holds the API token",
        "7:3: integrations[1].websocketConfig.url: holds the API token",
        "12:3: integrations[2].particleConfig.accessToken: holds SYNCER_PLAN_KEY",
    ]
    assert lines[3:] == [
        "refusing to send syncer's own credential to Losant (3 values of the files); nothing was changed"
    ]
    assert TOKEN not in result.output
    assert key not in result.output


@pytest.mark.parametrize("command", ["plan", "drift"])
def test_a_live_value_spelt_like_a_label_is_shown_as_a_value(command: str, tmp_path: Path) -> None:
    """syncer shows labels bare ((sensitive), (from ${env:X})): a live value spelt like one must
    still read as a value, quoted, or it could pass for a masked secret."""
    with running_emulator() as running:
        running.emulator.seed(APP, [broker("b", host="(sensitive)")])
        result = run(running, command, str(tree(tmp_path, broker("b", host="h.example.com"))))
    assert result.exit_code in (0, 2), result.output
    shown = (
        '"(sensitive)" -> "h.example.com"'
        if command == "plan"
        else 'live "(sensitive)", files "h.example.com"'
    )
    assert f"mqttConfig.host: {shown}" in result.stdout


@pytest.mark.parametrize("field", ["name", "previousNames", "id"])
def test_an_identity_cannot_come_from_the_environment(field: str, tmp_path: Path) -> None:
    value: Any = "${env:SECRET_NAME}" if field != "previousNames" else ["${env:SECRET_NAME}"]
    entry = {**PARTICLE, "name": "x", field: value}
    result = syncer("validate", str(tree(tmp_path, entry)), env={"SECRET_NAME": "name-SECRET-77"})
    assert result.exit_code == 1
    assert f"{field} cannot read the environment: it is the integration's identity" in result.stderr
    assert "SECRET-77" not in result.output


@pytest.mark.parametrize("env", [{"APP_ID": APP}, {}], ids=["set", "unset, --env-optional"])
def test_the_application_cannot_come_from_the_environment(env: dict[str, str], tmp_path: Path) -> None:
    # unset under --env-optional, it would plan no application at all and report all well
    path = tmp_path / "integrations.yaml"
    path.write_text("application: ${env:APP_ID}\nintegrations: []\n")
    for command in ("validate", "plan"):
        result = syncer(command, str(path), "--env-optional", env={**env, "LOSANT_API_TOKEN": TOKEN})
        assert failed(result).splitlines()[0] == (
            f"{path}:1:14: application: application cannot read the environment: it decides which "
            "application is read and changed; write it in the file"
        )


def test_an_error_never_shows_a_value_read_from_the_environment(tmp_path: Path) -> None:
    # two entries whose names are equal only once the environment is read
    entries = [
        {**PARTICLE, "name": "same", "topics": ["${env:T1}"]},
        {**PARTICLE, "name": "same", "topics": ["${env:T1}"]},
    ]
    result = syncer(
        "validate", str(tree(tmp_path, *entries)), env={"T1": "topic-SECRET-12", "GITHUB_ACTIONS": "true"}
    )
    assert result.exit_code == 1
    assert "declared twice" in result.stderr
    assert "SECRET-12" not in result.output


@pytest.mark.parametrize("secret", ["```diff", "````", "true", "null", "false"])
def test_a_secret_that_looks_like_syntax_breaks_no_output(secret: str, tmp_path: Path) -> None:
    env = actions_env(tmp_path)
    summary = Path(env["GITHUB_STEP_SUMMARY"])
    hostile = {"name": "@security-team <img src=x> **Approved**", **PARTICLE}
    with running_emulator() as running:
        running.emulator.seed(APP, [{**hostile, "particleConfig": {"accessToken": secret}}])
        files = tree(tmp_path / "files", {**PARTICLE, "name": "keep"})
        plan = run(running, "plan", str(files), "--prune", "--format", "json", env=env)
        drift = run(running, "drift", str(files), "--format", "markdown", env=env)
    assert plan.exit_code == 0, plan.output
    json.loads(plan.stdout)  # JSON for tools is whole, unfenced, even under Actions
    assert not any(line.lstrip().startswith("::") for line in plan.stdout.splitlines())
    for markdown in (drift.stdout, summary.read_text()):
        outside: list[str] = []
        fence = 0
        for line in markdown.splitlines():
            ticks = len(line) - len(line.lstrip("`"))
            if ticks >= 3 and (fence == 0 or ticks >= fence):
                fence = 0 if fence else ticks
            elif fence == 0:
                outside.append(line)
        assert not any("@security-team" in line or "<img" in line for line in outside), outside


def test_legacy_workflow_commands_are_neutralised_in_every_line(tmp_path: Path) -> None:
    with running_emulator(latency=0.01) as running:
        running.emulator.seed(APP, [{**PARTICLE, "name": "x ##[warning]INJECTED", "enabled": False}])
        files = tree(tmp_path, {**PARTICLE, "name": "x ##[warning]INJECTED", "enabled": True})
        result = run(
            running, "--debug", "apply", str(files), "--auto-approve", env={"GITHUB_ACTIONS": "true"}
        )
    assert result.exit_code == 0, result.output
    assert "##[warning]" not in result.output
    assert "##\\[warning]INJECTED" in result.stdout  # the progress line, still readable


def test_a_lone_surrogate_in_a_live_name_is_shown_escaped(tmp_path: Path) -> None:
    with running_emulator() as running:
        running.emulator.seed(APP, [{**PARTICLE, "name": "bad \ud800 name"}])
        for output in ("text", "markdown", "json"):
            result = run(
                running, "plan", str(tree(tmp_path, {**PARTICLE, "name": "k"})), "--prune", "--format", output
            )
            assert result.exit_code == 0, result.output
            assert "internal error" not in result.output


@pytest.mark.parametrize(
    "url",
    ["https://api..losant.com", "https://999.1.1.1", "https://api\u200b.losant.com", "https://-x.losant.com"],
)
def test_a_url_that_names_no_host_is_one_line(url: str, tmp_path: Path) -> None:
    result = syncer(
        "plan",
        str(tree(tmp_path, {**PARTICLE, "name": "x"})),
        env={"LOSANT_API_TOKEN": TOKEN, "LOSANT_API_URL": url},
    )
    assert result.exit_code == 1
    assert "does not name a host" in result.stderr
    assert len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize("token", ["tök3n-with-umlaut", "tok en", "tok\u200ben"])
def test_a_token_that_cannot_be_a_token_is_one_line_and_never_shown(token: str, tmp_path: Path) -> None:
    with running_emulator() as running:
        result = run(running, "plan", str(tree(tmp_path, {**PARTICLE, "name": "x"})), token=token)
        assert result.exit_code == 1
        assert (
            "LOSANT_API_TOKEN: the API token holds a space, a control or a non-ASCII character"
            in result.stderr
        )
        assert token not in result.output
        assert running.emulator.log == []


def test_an_unwritable_step_summary_is_one_line(tmp_path: Path) -> None:
    with running_emulator() as running:
        env = {**actions_env(tmp_path), "GITHUB_STEP_SUMMARY": str(tmp_path)}  # a directory
        result = run(running, "plan", str(tree(tmp_path / "f", {**PARTICLE, "name": "x"})), env=env)
    assert result.exit_code == 1
    assert f"{tmp_path}: cannot write the step summary" in result.stderr


def test_export_writes_a_bidi_override_as_an_escape(tmp_path: Path) -> None:
    with running_emulator() as running:
        running.emulator.seed(APP, [{**PARTICLE, "name": "admin\u202etxt.exe"}])
        text = exported(running, tmp_path / "out").read_text()
        assert "\u202e" not in text
        assert yaml.safe_load(text)["integrations"][0]["name"] == "admin\u202etxt.exe"  # reads back the same


@pytest.mark.parametrize("blocker", ["a file on the way", "a directory named like the export"])
def test_export_to_a_place_that_cannot_be_written_is_one_line(blocker: str, tmp_path: Path) -> None:
    with running_emulator() as running:
        running.emulator.seed(APP, [{**PARTICLE, "name": "x"}])
        if blocker == "a file on the way":  # --out goes through a file
            (tmp_path / "taken").write_text("not a directory")
            out = tmp_path / "taken" / "out"
            where = str(out)
        else:  # the file to write is a directory
            out = tmp_path / "out"
            (out / f"{APP}.yaml").mkdir(parents=True)
            where = str(out / f"{APP}.yaml")
        result = run(running, "export", "--application", APP, "--out", str(out), "--force")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"{where}: cannot write the export (")
    assert result.stderr.rstrip().endswith("; choose another --out")
    assert len(result.stderr.splitlines()) == 1


class _ForeignItem(JsonApi):
    """Answers an application's list with an integration of another application; records writes."""

    writes: ClassVar[list[str]] = []

    def answer(self) -> None:
        if self.command != "GET":
            self.writes.append(self.command)
            self.send_json(500, {"type": "Unexpected", "message": "no write expected"})
            return
        item = {**PARTICLE, "name": "stray", "id": "a" * 24, "applicationId": "0" * 24}
        self.send_json(200, {"count": 1, "totalCount": 1, "perPage": 1000, "page": 0, "items": [item]})


def test_a_list_item_of_another_application_stops_the_run(tmp_path: Path) -> None:
    """An API that answers one application's list with another's integration: planned from, it
    would be pruned through this application's path. The run stops before any write."""
    with serving(_ForeignItem) as url:
        files = str(tree(tmp_path, {**PARTICLE, "name": "x"}))
        env: dict[str, str | None] = {"LOSANT_API_URL": url, "LOSANT_API_TOKEN": TOKEN}
        result = syncer("apply", "--auto-approve", "--prune", files, env=env)
    assert _ForeignItem.writes == []
    assert failed(result).splitlines()[-1] == (
        f'live state of application {APP}: its list holds "stray" of another application; nothing was changed'
    )
