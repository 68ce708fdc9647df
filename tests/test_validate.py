"""`syncer validate`: every mistake located, one line each, exit 1; valid trees summarised."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from syncer.desired import load_desired
from syncer.losant import HEADER_SECRET, SECRET_FIELDS
from syncer.schema import WHOLE_VARIABLE, file_schema
from tests.builders import APP, FLEET
from tests.e2e import EXAMPLE_ENV, EXAMPLES, tree
from tests.helpers import failed, syncer

CORPUS = Path(__file__).parent / "corpus" / "validate"


def _expected() -> dict[str, list[str]]:
    cases: dict[str, list[str]] = {}
    for line in (CORPUS / "expected.txt").read_text().splitlines():
        cases.setdefault(line.split(":", 1)[0], []).append(line)
    return cases


EXPECTED = _expected()


def test_corpus_has_one_expectation_per_file() -> None:
    files = sorted(p.name for p in CORPUS.glob("*.yaml"))
    assert len(files) >= 30
    assert sorted(EXPECTED) == files


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_file_gets_located_one_line_error(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(CORPUS)
    run = syncer("validate", name)
    lines = failed(run).splitlines()
    assert lines[:-1] == EXPECTED[name]
    assert lines[-1].startswith(f"{len(EXPECTED[name])} error")
    assert run.stdout == ""


def test_secret_value_is_never_echoed_in_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(CORPUS)
    run = syncer("validate", "29-secret-read-as-number.yaml")
    assert "mqttConfig.password: expected a string, found a number;" in run.stderr
    assert "918273645" not in run.output


_CONFIGS: dict[str, tuple[str, dict[str, object]]] = {
    "mqttConfig": ("mqtt", {"host": "h", "port": 1883, "protocol": "mqtt"}),
    "websocketConfig": ("websocket", {"url": "wss://x"}),
    "azureEventHubConfig": ("azureEventHub", {"hubName": "h", "consumerGroup": "c"}),
    "googlePubSubConfig": ("googlePubSub", {}),
    "particleConfig": ("particle", {}),
    "sqsConfig": ("sqs", {"queueUrl": "q"}),
}
SECRET_PLACES = [*sorted(SECRET_FIELDS), HEADER_SECRET[:2]]
# every way a reference can be malformed; the words QX7, QX8, 9QX, dflt8 belong to the value
MALFORMED = [
    "${",
    "${}",
    "${env:}",
    "${ENV:QX7}",
    "${env:9QX}",
    "${QX7_PW}",
    "${env:QX7:x}",
    "${env:QX7:-dflt8",
    "${env:QX7:-dflt8${env:QX8}}",
    "${env:QX7 ${env:QX8}",
]


@pytest.mark.parametrize("form", MALFORMED)
@pytest.mark.parametrize("place", SECRET_PLACES, ids=".".join)
def test_a_malformed_reference_in_a_secret_echoes_nothing_of_it(
    place: tuple[str, str], form: str, tmp_path: Path
) -> None:
    config, field = place
    kind, body = _CONFIGS[config]
    value = f"s3cr3t{form}s3cr3t"
    section = {
        **body,
        **({"headers": [{"headerKey": "k", "headerValue": value}]} if field == "headers" else {field: value}),
    }
    files = tree(tmp_path, {"name": "N", "integrationType": kind, config: section})
    run = syncer("validate", str(files), env={"GITHUB_ACTIONS": "true"})  # annotations too
    assert "cannot read the reference at character 7: " in failed(run)
    assert "::error file=" in run.stdout
    for word in ("s3cr3t", "QX7", "QX8", "9QX", "dflt8"):
        assert word not in run.output


def test_examples_are_valid() -> None:
    run = syncer("validate", str(EXAMPLES), env=EXAMPLE_ENV)
    assert run.exit_code == 0, run.stderr
    assert run.stdout == "8 integrations in 3 files for 2 applications: valid\n"


def test_examples_use_every_integration_type_and_credential_names() -> None:
    text = "".join(p.read_text() for p in EXAMPLES.rglob("*.yaml"))
    for kind in ("mqtt", "googlePubSub", "azureEventHub", "sqs", "particle", "websocket"):
        assert f"integrationType: {kind}\n" in text
    assert "credentialName:" in text
    assert "${env:" in text
    for path in EXAMPLES.rglob("*.yaml"):
        first = path.read_text().splitlines()[0]
        schema = "syncer-project.schema.json" if path.name == "syncer.yaml" else "syncer.schema.json"
        assert first.startswith("# yaml-language-server: $schema=")
        assert (path.parent / first.split("=", 1)[1]).resolve() == (
            EXAMPLES.parent.parent / "schema" / schema
        )


def test_every_missing_variable_is_reported_in_one_run() -> None:
    run = syncer("validate", str(EXAMPLES))
    assert run.exit_code == 1
    located = [line for line in run.stderr.splitlines() if "is not set" in line]
    assert len(located) == 5
    assert all(line.startswith(str(EXAMPLES)) for line in located)
    assert run.stderr.splitlines()[-1].endswith(
        "unset environment variables: FLEET_DISPATCH_TOKEN, FLEET_PARTICLE_TOKEN, "
        "LINE1_MQTT_PASSWORD, LINE2_MQTT_CERTIFICATE, LINE2_MQTT_PRIVATE_KEY"
    )


def test_env_optional_accepts_unset_variables_but_still_checks_the_rest(tmp_path: Path) -> None:
    run = syncer("validate", "--env-optional", str(EXAMPLES))
    assert run.exit_code == 0, run.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        _doc(
            "  - name: x\n    integrationType: mqtt\n",
            "    mqttConfig: {host: h, port: 0, protocol: mqtt, password: '${env:NOPE}'}\n",
        )
    )
    run = syncer("validate", "--env-optional", str(bad))
    assert "mqttConfig.port: must be at least 1" in failed(run)
    assert "NOPE" not in run.stderr


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


PARTICLE = "    integrationType: particle\n    particleConfig: {accessToken: abcdef}\n"


def _doc(*entries: str, app: str = APP) -> str:
    """A file's text: the application, then `entries` (YAML list items) as its integrations."""
    return f"application: {app}\nintegrations:\n" + "".join(entries)


def _particle(name: str) -> str:
    return f"  - name: {name}\n{PARTICLE}"


def test_duplicate_name_across_files_shows_both_places(tmp_path: Path) -> None:
    _write(tmp_path / "a.yaml", _doc(_particle("Trackers")))
    _write(tmp_path / "b.yaml", _doc(_particle("Trackers")))
    run = syncer("validate", str(tmp_path))
    assert failed(run).splitlines()[0] == (
        f"{tmp_path}/b.yaml:3:5: integrations[0]: integration 'Trackers' is declared twice for "
        f"application {APP} (also at {tmp_path}/a.yaml:3:5); keep one entry"
    )


def test_same_name_in_two_applications_is_fine(tmp_path: Path) -> None:
    _write(tmp_path / "a.yaml", _doc(_particle("Trackers")))
    _write(tmp_path / "b.yaml", _doc(_particle("Trackers"), app=FLEET))
    run = syncer("validate", str(tmp_path))
    assert run.stdout == "2 integrations in 2 files for 2 applications: valid\n"


def test_errors_of_every_file_are_reported_in_one_run(tmp_path: Path) -> None:
    for name in ("a", "b", "c"):
        _write(tmp_path / f"{name}.yaml", _doc(f"  - name: {name}\n"))
    run = syncer("validate", str(tmp_path))
    assert run.exit_code == 1
    assert run.stderr.count("missing required field 'integrationType'") == 3
    assert run.stderr.splitlines()[-1] == "3 errors in 3 of 3 files"


def test_oversized_file_is_refused_before_parsing(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_bytes(b"# " + b"x" * (5 * 1024 * 1024) + b"\n")
    run = syncer("validate", str(big))
    assert failed(run).splitlines()[0] == (
        f"{big}:1:1: file is 5.0 MiB, over the 5 MiB limit; split it into several files"
    )


def test_symlinks_to_regular_files_are_read(tmp_path: Path) -> None:
    real = _write(tmp_path / "real" / "a.yaml", _doc(_particle("T")))
    (tmp_path / "tree").mkdir()
    (tmp_path / "tree" / "linked.yaml").symlink_to(real)
    (tmp_path / "tree" / "syncer.yaml").symlink_to(
        _write(tmp_path / "real" / "project.yaml", "prune: true\n")
    )
    run = syncer("validate", str(tmp_path / "tree"))
    assert run.exit_code == 0, run.stderr
    assert run.stdout == "1 integration in 1 file for 1 application: valid\n"


def test_a_dangling_symlink_in_the_tree_is_an_error_not_a_missing_file(tmp_path: Path) -> None:
    _write(tmp_path / "a.yaml", _doc(_particle("T")))
    (tmp_path / "syncer.yaml").symlink_to(tmp_path / "gone.yaml")
    run = syncer("validate", str(tmp_path))
    assert run.exit_code == 1
    assert (
        run.stderr.splitlines()[0]
        == f"{tmp_path}/syncer.yaml:1:1: cannot read file: No such file or directory"
    )


def test_nesting_beyond_the_parser_limit_is_an_error(tmp_path: Path) -> None:
    deep = _write(tmp_path / "deep.yaml", f"application: {APP}\nintegrations: " + "[" * 1100 + "]" * 1100)
    run = syncer("validate", str(deep))
    assert "invalid YAML" in failed(run)
    assert "nesting depth" in run.stderr


def test_aliases_and_merge_keys_within_limits_are_fine(tmp_path: Path) -> None:
    text = _doc(
        "  - &base\n    name: Line 1\n    integrationType: mqtt\n",
        "    mqttConfig: &cfg {host: b.example.com, port: 1883, protocol: mqtt}\n",
        "  - <<: *base\n    name: Line 2\n    mqttConfig:\n      <<: *cfg\n      port: 8883\n",
    )
    run = syncer("validate", str(_write(tmp_path / "a.yaml", text)))
    assert run.exit_code == 0, run.stderr
    assert run.stdout.startswith("2 integrations in 1 file ")


def test_merge_override_error_points_at_the_override(tmp_path: Path) -> None:
    text = _doc(
        "  - name: Line 1\n    integrationType: mqtt\n",
        "    mqttConfig: &cfg {host: b.example.com, port: 1883, protocol: mqtt}\n",
        "  - name: Line 2\n    integrationType: mqtt\n    mqttConfig:\n      <<: *cfg\n      port: '8883'\n",
    )
    run = syncer("validate", str(_write(tmp_path / "a.yaml", text)))
    assert run.stderr.splitlines()[0] == (
        f"{tmp_path}/a.yaml:10:13: integrations[1].mqttConfig.port: "
        "expected a number, found a string ('8883')"
    )


def test_env_default_and_literal_escape(tmp_path: Path) -> None:
    text = _doc(
        "  - name: Trackers\n    integrationType: particle\n",
        "    particleConfig:\n      accessToken: ${env:PARTICLE_TOKEN:-fallback-token}\n",
        "      productSlugOrId: $${literal}\n",
    )
    path = _write(tmp_path / "a.yaml", text)
    state = load_desired([str(path)], {})
    config = state.integrations[0].body["particleConfig"]
    assert config == {"accessToken": "fallback-token", "productSlugOrId": "${literal}"}
    state = load_desired([str(path)], {"PARTICLE_TOKEN": "from-env-${env:X}"})
    assert state.integrations[0].body["particleConfig"]["accessToken"] == "from-env-${env:X}"
    assert state.integrations[0].env_refs == {("particleConfig", "accessToken"): ("PARTICLE_TOKEN",)}


def test_dates_and_yaml_booleans(tmp_path: Path) -> None:
    text = _doc("  - name: 2024-01-01\n    enabled: yes\n", PARTICLE)
    state = load_desired([str(_write(tmp_path / "a.yaml", text))], {})
    assert state.integrations[0].name == "2024-01-01"  # stays a string, not a date
    assert state.integrations[0].body["enabled"] is True


def test_losant_export_file_is_accepted_and_its_placeholders_ignored(tmp_path: Path) -> None:
    text = (
        f"application: {APP}\n"
        "resourceType: Integration\n"
        "resources:\n"
        "  - credentialName: Traccar service credentials\n"
        "    exportHash: e59a15c1aa\n"
        "    id: ~exportplaceholderid-integration-traccarIntegration~\n"
        "    integrationType: websocket\n"
        "    name: Traccar integration\n"
        "    topics: []\n"
        "    websocketConfig: { disableSSLVerification: false, headers: [], "
        "url: 'wss://demo.traccar.org/api/socket' }\n"
        "version: 1\n"
    )
    path = _write(tmp_path / "integrations.yaml", text)
    run = syncer("validate", str(path))
    assert run.stdout == "1 integration in 1 file for 1 application: valid\n"
    item = load_desired([str(path)], {}).integrations[0]
    assert item.pinned_id is None
    assert "exportHash" not in item.body
    assert "id" not in item.body
    assert item.body["websocketConfig"]["url"] == "wss://demo.traccar.org/api/socket"


def test_project_file_is_read_from_the_root(tmp_path: Path) -> None:
    _write(
        tmp_path / "syncer.yaml",
        f"prune: false\nmaxDeletes: 3\nneverTouch: ['Manual *']\napplications:\n  {APP}:\n    prune: true\n",
    )
    _write(tmp_path / "a" / "a.yaml", _doc(_particle("T")))
    state = load_desired([str(tmp_path)], {})
    assert state.project.max_deletes == 3
    assert state.project.prune_for(APP) is True
    assert state.project.prune_for(FLEET) is False
    assert state.project.never_touch_for(APP) == ("Manual *",)
    assert state.files == (str(tmp_path / "a" / "a.yaml"),)


def test_project_file_mistakes_are_located(tmp_path: Path) -> None:
    _write(tmp_path / "syncer.yaml", "maxDeletes: -1\npruning: true\n")
    _write(tmp_path / "a.yaml", _doc(_particle("T")))
    run = syncer("validate", str(tmp_path))
    assert failed(run).splitlines()[:2] == [
        f"{tmp_path}/syncer.yaml:1:13: maxDeletes: must be at least 0, found a number (-1)",
        f"{tmp_path}/syncer.yaml:2:1: pruning: unknown field 'pruning'; did you mean 'prune'?",
    ]


def test_ignore_fields_name_only_fields_losant_has_for_that_type(tmp_path: Path) -> None:
    _write(
        tmp_path / "syncer.yaml",
        "ignoreFields:\n  mqtt: [mqttConfig.clen, websocketConfig.url]\n  all: [name]\n"
        f"applications:\n  {APP}:\n    ignoreFields: {{sftp: [enabled]}}\n",
    )
    _write(tmp_path / "a.yaml", _doc(_particle("T")))
    run = syncer("validate", str(tmp_path))
    assert run.exit_code == 1
    head = "must be one of"
    assert run.stderr.splitlines()[:4] == [
        f"{tmp_path}/syncer.yaml:2:10: ignoreFields.mqtt[0]: {head} 16 values (`syncer schema --project` "
        "lists them), found a string ('mqttConfig.clen'); did you mean 'mqttConfig.clean'?",
        f"{tmp_path}/syncer.yaml:2:27: ignoreFields.mqtt[1]: {head} 16 values (`syncer schema --project` "
        "lists them), found a string ('websocketConfig.url')",
        f"{tmp_path}/syncer.yaml:3:9: ignoreFields.all[0]: {head} 43 values (`syncer schema --project` "
        "lists them), found a string ('name')",
        f"{tmp_path}/syncer.yaml:6:20: applications.{APP}.ignoreFields.sftp: unknown field 'sftp'; "
        "allowed: all, azureEventHub, googlePubSub, mqtt, particle, sqs, websocket",
    ]


def test_hidden_directories_are_skipped(tmp_path: Path) -> None:
    _write(tmp_path / ".github" / "workflows" / "ci.yml", "on: push\n")
    _write(tmp_path / "a.yaml", _doc(_particle("T")))
    assert syncer("validate", str(tmp_path)).exit_code == 0


def test_github_actions_annotations(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(CORPUS)
    run = syncer("validate", "12-port-quoted.yaml", env={"GITHUB_ACTIONS": "true"})
    assert run.exit_code == 1
    assert run.stdout.splitlines() == [
        "::error file=12-port-quoted.yaml,line=7,col=13::integrations[0].mqttConfig.port: "
        "expected a number, found a string ('1883')"
    ]


def test_annotations_are_capped_like_github_shows_them(tmp_path: Path) -> None:
    entries = "".join(f"  - name: n{i}\n" for i in range(15))
    path = _write(tmp_path / "a.yaml", _doc(entries))
    run = syncer("validate", str(path), env={"GITHUB_ACTIONS": "true"})
    lines = run.stdout.splitlines()
    assert len(lines) == 11
    assert lines[-1] == "::error::5 more errors; see the log for all of them"


def test_schema_command_matches_the_committed_schema_files() -> None:
    root = Path(__file__).parent.parent / "schema"
    printed = json.loads(syncer("schema").stdout)
    assert printed == json.loads((root / "syncer.schema.json").read_text())
    project = json.loads(syncer("schema", "--project").stdout)
    assert project == json.loads((root / "syncer-project.schema.json").read_text())
    post = json.loads(
        (Path(__file__).parent.parent / "syncer/schemas/losant/integrationPost.json").read_text()
    )
    # the schema files are checked with (after ${var:} is put in) takes Losant's fields as published
    entry = file_schema()["$defs"]["integration"]
    for field in post["properties"]:
        if field == "credentialName":  # null clears it, as Losant's Patch schema allows
            assert entry["properties"][field]["oneOf"][0] == post["properties"][field]
            continue
        assert entry["properties"][field] == post["properties"][field]
    assert entry["additionalProperties"] is False
    # the one editors get differs only where a typed field may be written ${var:NAME}
    port = printed["$defs"]["integration"]["properties"]["mqttConfig"]["properties"]["port"]
    assert port["anyOf"] == [post["properties"]["mqttConfig"]["properties"]["port"], WHOLE_VARIABLE]


def test_shipped_losant_schemas_are_the_published_ones() -> None:
    reference = Path(__file__).parent.parent.parent / "shared" / "reference" / "losant-schemas"
    if not reference.is_dir():
        pytest.skip("reference schemas not beside this checkout")
    shipped = Path(__file__).parent.parent / "syncer" / "schemas" / "losant"
    for path in reference.glob("*.json"):
        assert (shipped / path.name).read_bytes() == path.read_bytes()


def test_version_and_help() -> None:
    from syncer import __version__

    assert syncer("--version").stdout == f"syncer, version {__version__}\n"
    assert "validate" in syncer("--help").stdout


def test_usage_errors_exit_1_not_2() -> None:
    run = syncer("validate", "--no-such-flag")
    assert run.exit_code == 1
    assert run.stderr == "Error: No such option '--no-such-flag'. (see `syncer validate --help`)\n"


def test_missing_path_exits_1(tmp_path: Path) -> None:
    run = syncer("validate", str(tmp_path / "nope"))
    assert "does not exist" in failed(run)


def test_no_yaml_files_is_an_error(tmp_path: Path) -> None:
    run = syncer("validate", str(tmp_path))
    assert failed(run) == f"no integration files (*.yaml, *.yml) under {tmp_path}"


def test_validate_needs_no_token_and_no_network(tmp_path: Path) -> None:
    env = {k: None for k in os.environ if k.startswith("LOSANT")}
    _write(tmp_path / "a.yaml", _doc(_particle("T")))
    assert syncer("validate", str(tmp_path), env=env).exit_code == 0
