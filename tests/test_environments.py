"""Environments (issue 17): one definition, many Losant applications, and promotion between them.

A project with a staging and a production application: the files name the application by its
alias, hosts come from `${var:…}`, production has one more broker, staging disables one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
import yaml

from syncer.connection import ConnectionOptions
from syncer.emulator.api import DEFAULT_TOKEN
from syncer.emulator.server import RunningEmulator
from syncer.emulator.testing import running_emulator
from syncer.session import Session
from tests.builders import APP, FLEET
from tests.e2e import auto_apply, exported, failed_without_writes, run
from tests.helpers import Run, failed, syncer

STAGING, PRODUCTION = APP, FLEET
PROJECT = f"""\
environments:
  staging:
    applications:
      plant-floor: {STAGING}
    vars:
      BROKER_HOST: broker.staging.example.com
      BROKER_PORT: 1883
    overrides:
      plant-floor:
        Line 2 broker: {{enabled: false}}
  production:
    applications:
      plant-floor: {PRODUCTION}
    vars:
      BROKER_HOST: broker.example.com
      BROKER_PORT: 8883
"""
FLOOR = """\
application: plant-floor
integrations:
  - name: Line 1 broker
    integrationType: mqtt
    topics: [line1]
    mqttConfig:
      host: ${var:BROKER_HOST}
      port: ${var:BROKER_PORT}
      protocol: mqtt
      password: ${env:BROKER_PASSWORD}
  - name: Line 2 broker
    integrationType: mqtt
    topics: [line2]
    mqttConfig: {host: "line2.${var:BROKER_HOST}", port: 1883, protocol: mqtt}
  - name: Backup broker
    environments: [production]
    integrationType: mqtt
    topics: [backup]
    mqttConfig: {host: backup.example.com, port: 1883, protocol: mqtt}
"""
SECRET = {"BROKER_PASSWORD": "pw-Zq81-secret"}
ENVIRONMENTS = ("staging", "production")


def project(tmp_path: Path, project: str = PROJECT, floor: str = FLOOR) -> Path:
    (tmp_path / "syncer.yaml").write_text(project)
    (tmp_path / "floor.yaml").write_text(floor)
    return tmp_path


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """tmp_path holding the project above (PROJECT and FLOOR)."""
    return project(tmp_path)


@pytest.fixture
def running() -> Iterator[RunningEmulator]:
    """An emulator serving the applications of both environments."""
    with running_emulator(applications=(STAGING, PRODUCTION)) as served:
        yield served


def compare(running: RunningEmulator, root: Path, *more: str) -> Run:
    """`syncer compare --from staging --to production ROOT MORE`."""
    return run(running, "compare", str(root), "--from", "staging", "--to", "production", *more)


def apply_in(running: RunningEmulator, root: Path, environment: str, env: dict[str, str] = SECRET) -> Run:
    """`syncer apply ROOT --environment ENVIRONMENT --auto-approve`, which must succeed."""
    applied = auto_apply(running, str(root), "--environment", environment, env=env)
    assert applied.exit_code == 0, applied.output
    return applied


def apply_in_each(running: RunningEmulator, root: Path) -> None:
    """apply_in staging, then in production."""
    for environment in ENVIRONMENTS:
        apply_in(running, root, environment)


def plan_in(
    running: RunningEmulator, root: Path, environment: str, *more: str, env: dict[str, str] = SECRET
) -> Run:
    """`syncer plan ROOT --environment ENVIRONMENT MORE`."""
    return run(running, "plan", str(root), "--environment", environment, *more, env=env)


def exported_from(running: RunningEmulator, root: Path, environment: str) -> dict[str, Any]:
    """The project applied in ENVIRONMENT, then plant-floor exported from it (to ROOT/exported): the
    file written, read."""
    apply_in(running, root, environment)
    file = exported(running, root / "exported", "plant-floor", "--environment", environment)
    return cast(dict[str, Any], yaml.safe_load(file.read_text()))


def live(running: RunningEmulator, app: str) -> dict[str, dict[str, object]]:
    return {str(i["name"]): i for i in running.emulator.integrations(app)}


# --- validate: every environment at once, located errors ------------------------------------


def test_validate_checks_every_environment_and_names_each(root: Path) -> None:
    result = syncer("validate", str(root), env=SECRET)
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "1 file for 1 application: valid in every environment: "
        "staging (2 integrations), production (3 integrations)\n"
    )
    one = syncer("validate", str(root), "--environment", "production", "--format", "json", env=SECRET)
    document = json.loads(one.stdout)
    assert (document["environment"], document["integrations"], document["applications"]) == (
        "production",
        3,
        [PRODUCTION],
    )


def test_an_alias_without_an_environment_is_a_located_error_naming_the_choices(root: Path) -> None:
    result = syncer("plan", str(root), env={**SECRET, "LOSANT_API_TOKEN": "t"})
    lines = failed(result).splitlines()
    assert lines[0] == (
        f"{root}/floor.yaml:1:14: application: 'plant-floor' is an alias: choose one with "
        "--environment NAME (or SYNCER_ENVIRONMENT): production, staging"
    )
    assert (
        f"{root}/floor.yaml:7:13: integrations[0].mqttConfig.host: ${{var:BROKER_HOST}} takes its "
        "value from an environment: choose one with --environment NAME (or SYNCER_ENVIRONMENT): "
        "production, staging"
    ) in lines


def test_errors_found_in_some_environments_say_which(tmp_path: Path) -> None:
    broken = PROJECT.replace("      BROKER_PORT: 8883\n", "").replace(
        "Line 2 broker: {enabled: false}",
        "Line 2 broker: {enabled: 'no'}\n        Line 3 broker: {enabled: false}",
    )
    lines = failed(syncer("validate", str(project(tmp_path, broken)), env=SECRET)).splitlines()
    assert lines == [
        f"{tmp_path}/floor.yaml:8:13: integrations[0].mqttConfig.port: variable BROKER_PORT is not "
        "defined in environment 'production'; add it under environments.production.vars in "
        "syncer.yaml, or give a default with ${var:BROKER_PORT:-value}",
        # an override's mistake points at the override, in syncer.yaml
        f"{tmp_path}/syncer.yaml:10:34: integrations[1].enabled: expected a boolean, found a string "
        "('no') (in environment staging)",
        f"{tmp_path}/syncer.yaml:11:9: environments.staging.overrides: environment 'staging' "
        "overrides 'Line 3 broker' of 'plant-floor', and no entry of that name is in this "
        "environment; fix the name, or remove the override",
        "3 errors in 2 of 2 files",
    ]


@pytest.mark.parametrize(
    ("change", "line"),
    [
        (
            ("application: plant-floor", "application: plant-flor"),
            "floor.yaml:1:14: application: alias 'plant-flor' is not defined in environment "
            "'staging'; add it under environments.staging.applications in syncer.yaml "
            "(defined: plant-floor)",
        ),
        (
            ("environments: [production]", "environments: [prod]"),
            "floor.yaml:16:19: integrations[2].environments: environment 'prod' is not defined in "
            "syncer.yaml (defined: production, staging)",
        ),
        (
            ("application: plant-floor", "application: ${var:APP}"),
            "floor.yaml:1:14: application: application cannot read a variable: name an alias of "
            "environments.<name>.applications instead",
        ),
        (
            ("application: plant-floor", "application: 12 34"),
            "floor.yaml:1:14: application: a string ('12 34') is neither an application id (24 "
            "hexadecimal characters) nor an alias (a letter, then up to 63 letters, digits, '_', '.' "
            "or '-'; not 24 hexadecimal characters)",
        ),
    ],
    ids=["unknown alias", "unknown environment", "application from a variable", "neither"],
)
def test_a_mistake_in_a_file_is_located(tmp_path: Path, change: tuple[str, str], line: str) -> None:
    project(tmp_path, floor=FLOOR.replace(*change))
    result = syncer("validate", str(tmp_path), "--environment", "staging", env={**SECRET, "APP": APP})
    assert failed(result).splitlines()[0] == f"{tmp_path}/{line}"


@pytest.mark.parametrize(
    ("change", "line"),
    [
        (
            ("BROKER_PORT: 8883", "BROKER_PORT: ${env:PORT}"),
            "syncer.yaml:16:20: environments.production.vars.BROKER_PORT: a variable is a plain "
            "value, shown in plans: it cannot read ${env:...} or ${var:...}; put a secret in the "
            "integration file as ${env:NAME}",
        ),
        (
            ("        Line 2 broker:", "        Line 2 broker: {name: renamed}\n        Line 4:"),
            "syncer.yaml:10:25: environments.staging.overrides.plant-floor.Line 2 broker.name: "
            "an override cannot set 'name': it is the entry's identity; limit the entry with "
            "`environments: [name]` and write one per environment instead",
        ),
        (
            ("      plant-floor: " + PRODUCTION, "      plant-floor: nope"),
            "syncer.yaml:13:20: environments.production.applications.plant-floor: a string ('nope') "
            "is not a Losant id (24 hexadecimal characters)",
        ),
    ],
    ids=["variable from the environment", "override of the identity", "not an id"],
)
def test_a_mistake_in_the_environments_is_located(tmp_path: Path, change: tuple[str, str], line: str) -> None:
    project(tmp_path, PROJECT.replace(*change))
    result = syncer("validate", str(tmp_path), env={**SECRET, "PORT": "1"})
    assert failed(result).splitlines()[0] == f"{tmp_path}/{line}"


def test_an_unknown_environment_names_the_ones_there_are(root: Path) -> None:
    result = syncer("validate", str(root), "--environment", "qa", env=SECRET)
    assert failed(result) == (
        f"environment 'qa' is not defined in {root}/syncer.yaml; choose one with --environment "
        "NAME (or SYNCER_ENVIRONMENT): production, staging"
    )


def test_files_with_plain_ids_work_unchanged_beside_environments(
    tmp_path: Path, running: RunningEmulator
) -> None:
    plain = f"application: {APP}\nintegrations:\n  - {{name: a, integrationType: particle}}\n"
    project(tmp_path, PROJECT.split("    overrides:")[0], floor=plain)
    assert syncer("validate", str(tmp_path)).exit_code == 0
    assert auto_apply(running, str(tmp_path)).exit_code == 0
    assert set(live(running, APP)) == {"a"}


def test_the_schema_covers_environments_for_editors(tmp_path: Path) -> None:
    file_schema = json.loads(syncer("schema").stdout)
    project_schema = json.loads(syncer("schema", "--project").stdout)
    entry = file_schema["$defs"]["integration"]["properties"]
    assert entry["environments"]["items"]["pattern"].startswith("^(?![A-Fa-f")
    assert file_schema["$defs"]["integrationsFile"]["properties"]["application"] == {
        "$ref": "#/$defs/application"
    }
    spec = project_schema["properties"]["environments"]["additionalProperties"]["properties"]
    assert set(spec) == {"applications", "vars", "overrides"}
    from jsonschema import Draft202012Validator

    assert not list(Draft202012Validator(project_schema).iter_errors(yaml.safe_load(PROJECT)))
    assert not list(Draft202012Validator(file_schema).iter_errors(yaml.safe_load(FLOOR)))


# --- plan and apply in an environment ---------------------------------------------------------


def test_each_environment_applies_its_own_ids_variables_entries_and_overrides(
    root: Path, running: RunningEmulator
) -> None:
    apply_in_each(running, root)
    staging, production = live(running, STAGING), live(running, PRODUCTION)
    assert set(staging) == {"Line 1 broker", "Line 2 broker"}
    assert set(production) == {"Line 1 broker", "Line 2 broker", "Backup broker"}
    assert staging["Line 1 broker"]["mqttConfig"]["host"] == "broker.staging.example.com"  # type: ignore[index]
    assert production["Line 1 broker"]["mqttConfig"]["port"] == 8883  # type: ignore[index]
    assert production["Line 2 broker"]["mqttConfig"]["host"] == "line2.broker.example.com"  # type: ignore[index]
    assert (staging["Line 2 broker"]["enabled"], production["Line 2 broker"]["enabled"]) == (False, True)
    for name in ENVIRONMENTS:
        again = plan_in(running, root, name, "--detailed-exitcode")
        assert (again.exit_code, again.stdout) == (
            0,
            f"No changes. Live state matches the files. (environment {name})\n",
        )


def test_a_plan_shows_variables_and_masks_the_environments_values(
    root: Path, running: RunningEmulator
) -> None:
    planned = run(running, "plan", str(root), env={**SECRET, "SYNCER_ENVIRONMENT": "production"})
    assert planned.exit_code == 0, planned.output
    assert f"Application {PRODUCTION} (plant-floor)" in planned.stdout
    assert '+ mqttConfig.host: "broker.example.com"' in planned.stdout  # a host is not a secret
    assert "+ mqttConfig.port: 8883" in planned.stdout  # a variable keeps its type
    assert SECRET["BROKER_PASSWORD"] not in planned.stdout
    assert planned.stdout.endswith("Plan: 3 to create, 0 to update, 0 to delete. (environment production)\n")


def test_a_saved_plan_keeps_its_environment_and_refuses_another(root: Path, running: RunningEmulator) -> None:
    saved = root / "plan.json"
    made = plan_in(running, root, "staging", "--out", str(saved))
    assert made.exit_code == 0, made.output
    assert json.loads(saved.read_text())["environment"] == "staging"
    for chosen in (["--environment", "production"], []):
        refused = auto_apply(running, str(saved), *chosen, env={**SECRET, "SYNCER_ENVIRONMENT": "production"})
        assert failed_without_writes(refused, running) == (
            f"{saved}: the plan was made in environment staging, and this apply names "
            "environment production; nothing was changed"
        )
    applied = auto_apply(running, str(saved), env=SECRET)
    assert applied.exit_code == 0, applied.output
    assert set(live(running, STAGING)) == {"Line 1 broker", "Line 2 broker"}
    assert live(running, PRODUCTION) == {}


def test_drift_and_status_read_the_environment_chosen(root: Path, running: RunningEmulator) -> None:
    apply_in(running, root, "production")
    drift = run(running, "drift", str(root), "--environment", "production", "--format", "json", env=SECRET)
    assert drift.exit_code == 0, drift.output
    assert json.loads(drift.stdout)["environment"] == "production"
    status = run(running, "status", str(root), "--environment", "production", "--format", "json", env=SECRET)
    assert status.exit_code == 0, status.output
    assert {row["name"] for row in json.loads(status.stdout)["integrations"]} == {
        "Line 1 broker",
        "Line 2 broker",
        "Backup broker",
    }
    staging = run(running, "drift", str(root), "--environment", "staging", env=SECRET)
    assert staging.exit_code == 2  # nothing applied there yet: missing live


# --- the promotion view -----------------------------------------------------------------------


def test_compare_after_variables_shows_only_real_differences(root: Path, running: RunningEmulator) -> None:
    apply_in_each(running, root)
    compared = compare(running, root)
    assert compared.exit_code == 2, compared.output
    assert compared.stdout.splitlines() == [
        "Compare staging -> production (live, after variables)",
        "",
        f"plant-floor ({STAGING} -> {FLEET})",
        '  = "Line 1 broker" (mqtt): same; by variables: mqttConfig.host, mqttConfig.port; '
        "not compared (secret): mqttConfig.password",
        '  ~ "Line 2 broker" (mqtt): different; by variables: mqttConfig.host',
        "      ~ enabled: false -> true (an override of staging)",
        '  + "Backup broker" (mqtt): only in production',
        "",
        "staging -> production: 3 integrations: 1 same, 1 different, 0 only in staging, "
        "1 only in production.",
    ]
    document = json.loads(
        compare(
            running,
            root,
            "--format",
            "json",
        ).stdout
    )
    assert document["summary"] == {
        "same": 1,
        "different": 1,
        "onlyInSource": 0,
        "onlyInTarget": 1,
        "text": compared.stdout.splitlines()[-1],
    }
    assert [i["state"] for i in document["integrations"]] == ["same", "different", "onlyInTarget"]
    requests = [r for r in running.emulator.log if r["method"] == "GET"]
    running.emulator.log.clear()
    compare(running, root)
    assert len(running.emulator.log) == 2  # one list per environment's application
    assert requests


def test_compare_says_same_with_exit_0_and_never_shows_a_secret(
    tmp_path: Path, running: RunningEmulator
) -> None:
    no_overrides = PROJECT.replace(
        "    overrides:\n      plant-floor:\n        Line 2 broker: {enabled: false}\n", ""
    )
    project(tmp_path, no_overrides, FLOOR.split("  - name: Backup broker")[0])
    for name, password in (("staging", "stage-pw-1"), ("production", "prod-pw-2")):
        env = {"BROKER_PASSWORD": password}
        apply_in(running, tmp_path, name, env)
    for output in ("text", "json", "markdown"):
        compared = compare(
            running,
            tmp_path,
            "--format",
            output,
        )
        assert compared.exit_code == 0, compared.output
        assert "stage-pw-1" not in compared.output
        assert "prod-pw-2" not in compared.output
    assert compared.stdout.startswith("<!-- syncer-compare -->\n### syncer compare: staging → production\n")


def test_compare_escapes_a_hostile_live_name(root: Path, running: RunningEmulator) -> None:
    hostile = {
        "name": "x\n::warning::INJECTED",
        "integrationType": "mqtt",
        "mqttConfig": {"host": "h", "port": 1883, "protocol": "mqtt"},
    }
    running.emulator.seed(STAGING, [hostile])
    compared = compare(running, root)
    assert compared.exit_code == 2
    assert not any(line.startswith("::") for line in compared.output.splitlines())
    assert '- "x\\n::warning::INJECTED" (mqtt): only in staging' in compared.stdout


def test_a_script_compares_twice_with_one_session(root: Path, running: RunningEmulator) -> None:
    """A session compares, then serves the next call as it was: comparing chooses each
    environment in turn, and must not leave the last one chosen."""
    apply_in_each(running, root)
    session = Session({"LOSANT_API_URL": running.url, "LOSANT_API_TOKEN": DEFAULT_TOKEN, **SECRET})
    first = session.compare([str(root)], ConnectionOptions(), "staging", "production")
    again = session.compare([str(root)], ConnectionOptions(), "staging", "production")
    assert again == first
    assert [c.state for c in first.integrations] == ["same", "different", "only in target"]


def test_compare_refuses_what_cannot_be_compared(root: Path, running: RunningEmulator) -> None:
    same = run(running, "compare", str(root), "--from", "staging", "--to", "staging")
    assert failed(same) == "--from and --to both name 'staging': name two environments"
    unknown = run(running, "compare", str(root), "--from", "staging", "--to", "qa")
    assert "environment 'qa' is not defined" in failed(unknown)
    assert running.emulator.log == []


# --- export ---------------------------------------------------------------------------------


def test_export_from_an_environment_writes_the_alias_and_its_variables(
    root: Path, running: RunningEmulator
) -> None:
    written = exported_from(running, root, "production")
    assert written["application"] == "plant-floor"
    line1 = next(i for i in written["integrations"] if i["name"] == "Line 1 broker")
    assert line1["mqttConfig"]["host"] == "${var:BROKER_HOST}"
    assert line1["mqttConfig"]["port"] == 8883  # a number equals a variable by chance too often
    assert line1["mqttConfig"]["password"].startswith("${env:")
    # the export validates and plans clean in the environment it came from
    variables = {line1["mqttConfig"]["password"][6:-1]: SECRET["BROKER_PASSWORD"]}
    (root / "floor.yaml").unlink()
    planned = plan_in(running, root, "production", "--detailed-exitcode", env=variables)
    assert planned.exit_code == 0, planned.output


# --- what a hostile review found --------------------------------------------------------------


def test_an_override_changes_only_its_entry_even_through_yaml_anchors(
    tmp_path: Path, running: RunningEmulator
) -> None:
    anchored = """\
application: plant-floor
integrations:
  - &base
    name: A
    integrationType: mqtt
    mqttConfig: {host: shared.example.com, port: 1883, protocol: mqtt}
  - <<: *base
    name: B
"""
    overridden = PROJECT.replace(
        "Line 2 broker: {enabled: false}", "A: {mqttConfig: {host: override.example.com}}"
    )
    project(tmp_path, overridden, anchored)
    apply_in(running, tmp_path, "staging", {})
    hosts = {name: item["mqttConfig"]["host"] for name, item in live(running, STAGING).items()}  # type: ignore[index]
    assert hosts == {"A": "override.example.com", "B": "shared.example.com"}
    # a mistake in the override is reported once, at the override, whichever way it is checked
    broken = overridden.replace("{host: override.example.com}", "{protocol: bogus}")
    project(tmp_path, broken, anchored)
    every = failed(syncer("validate", str(tmp_path))).splitlines()
    one = failed(syncer("validate", str(tmp_path), "--environment", "staging")).splitlines()
    assert len(every) == len(one) == 2
    assert every[0].startswith(f"{tmp_path}/syncer.yaml:10:")
    assert one[0].startswith(f"{tmp_path}/syncer.yaml:10:")


@pytest.mark.parametrize(
    ("change", "floor", "line"),
    [
        (
            ("plant-floor: " + PRODUCTION, "plant-floor: " + STAGING),
            FLOOR,
            "syncer.yaml:13:20: environments.production.applications.plant-floor: application "
            f"{STAGING} is also environments.staging.applications.plant-floor: each application belongs "
            "to one alias of one environment (they would undo each other's applies)",
        ),
        (
            (
                "environments:\n",
                f"applications:\n  plant-floor: {{prune: true}}\n  {STAGING}: {{prune: false}}\n"
                "environments:\n",
            ),
            FLOOR,
            f"syncer.yaml:2:3: applications.plant-floor: 'plant-floor' is application {STAGING} in "
            "environment 'staging', which has a policy of its own here; keep one of the two",
        ),
        (
            ("", ""),
            f"application: {APP}\nintegrations:\n  - name: x\n    integrationType: mqtt\n"
            "    mqttConfig: {host: '${var:BROKER_HOST}', port: 1883, protocol: mqtt}\n",
            f"floor.yaml:5:24: integrations[0].mqttConfig.host: this file names application {APP}, which "
            "every environment shares: a ${var:...} would make environments undo each other; name the "
            "application by an alias of environments.<name>.applications instead",
        ),
        (
            ("", ""),
            FLOOR.replace("  - name: Line 2 broker", "  - name: ${var:BROKER_HOST}"),
            "floor.yaml:11:11: integrations[1].name: name cannot read a variable: it is the "
            "integration's identity, the same in every environment; write it in the file (an entry for "
            "one environment: `environments: [name]`)",
        ),
        (
            ("", ""),
            FLOOR.replace("environments: [production]", "environments: []"),
            "floor.yaml:16:19: integrations[2].environments: [] should be non-empty",
        ),
        (
            ("BROKER_PORT: 1883", "BROKER_PORT: '1883'"),
            FLOOR,
            "floor.yaml:8:13: integrations[0].mqttConfig.port: expected a number, found a string ('1883'); "
            "it comes from ${var:BROKER_PORT}: give that variable a number in syncer.yaml "
            "(in environment staging)",
        ),
    ],
    ids=[
        "one id, two environments",
        "a policy twice",
        "plain id and a variable",
        "a name from a variable",
        "no environment",
        "a variable of the wrong type",
    ],
)
def test_what_environments_cannot_share_or_decide_is_refused(
    tmp_path: Path, change: tuple[str, str], floor: str, line: str
) -> None:
    project(tmp_path, PROJECT.replace(*change) if change[0] else PROJECT, floor)
    lines = failed(syncer("validate", str(tmp_path), env=SECRET)).splitlines()
    assert f"{tmp_path}/{line}" in lines, lines


def test_an_application_of_one_environment_only_is_left_out_of_the_others(tmp_path: Path) -> None:
    extra = PROJECT.replace(
        f"      plant-floor: {STAGING}\n",
        f"      plant-floor: {STAGING}\n      lab: 64f0a1b2c3d4e5f6a7b8c9d9\n",
    )
    project(tmp_path, extra)
    lab = "application: lab\nintegrations:\n"
    lab += "  - {name: probe, environments: [staging], integrationType: particle}\n"
    (tmp_path / "lab.yaml").write_text(lab)
    result = syncer("validate", str(tmp_path), env=SECRET)
    assert result.stdout.startswith("2 files for 1 application: valid in every environment: staging (3"), (
        result.output
    )


def test_compare_masks_a_header_value_and_ignores_what_either_side_ignores(
    tmp_path: Path, running: RunningEmulator
) -> None:
    ignoring = PROJECT.replace(
        "environments:\n",
        f"applications:\n  {PRODUCTION}: {{ignoreFields: {{all: [enabled]}}}}\nenvironments:\n",
    )
    project(tmp_path, ignoring)
    socket = {"name": "Feed", "integrationType": "websocket"}
    for app, value in ((STAGING, "hdr-Q7z-stg"), (PRODUCTION, "hdr-W9k-prd")):
        headers = [{"headerKey": "X-Key", "headerValue": value}]
        running.emulator.seed(app, [{**socket, "websocketConfig": {"url": "wss://x", "headers": headers}}])
    apply_in_each(running, tmp_path)
    both_ways = [compare(running, tmp_path, "--format", fmt) for fmt in ("text", "markdown", "json")]
    backwards = run(running, "compare", str(tmp_path), "--from", "production", "--to", "staging")
    for shown in both_ways:
        assert "hdr-Q7z-stg" not in shown.output
        assert "hdr-W9k-prd" not in shown.output
    assert '[{"headerKey": "X-Key", "headerValue": "(sensitive)"}]' in both_ways[0].stdout
    # enabled is ignored in production: not a difference, whichever way round
    assert '= "Line 2 broker"' in both_ways[0].stdout
    assert '= "Line 2 broker"' in backwards.stdout


def test_a_default_of_a_whole_variable_keeps_its_type(tmp_path: Path, running: RunningEmulator) -> None:
    typed = FLOOR.replace("port: ${var:BROKER_PORT}", "port: ${var:NO_SUCH_PORT:-8883}")
    project(tmp_path, floor=typed)
    planned = plan_in(running, tmp_path, "staging")
    assert "+ mqttConfig.port: 8883" in planned.stdout, planned.output


def test_application_takes_an_alias_and_refuses_an_application_the_files_do_not_name(
    root: Path, running: RunningEmulator
) -> None:
    by_alias = plan_in(running, root, "staging", "--application", "plant-floor")
    assert by_alias.exit_code == 0, by_alias.output
    assert "(a partial plan: only application" in by_alias.stdout
    other = plan_in(running, root, "staging", "--application", PRODUCTION)
    assert failed(other) == (
        f"--application {PRODUCTION}: no file names it in environment staging (the files name: plant-floor)"
    )


def test_a_saved_plan_and_a_prune_say_which_environment_they_are_in(
    root: Path, running: RunningEmulator
) -> None:
    saved = root / "plan.json"
    running.emulator.seed(STAGING, [{"name": "Backup broker", "integrationType": "particle"}])
    made = plan_in(running, root, "staging", "--prune", "--out", str(saved))
    assert '- delete "Backup broker" (particle)' in made.stdout, made.output
    assert "# declared only for production (pruning is on)" in made.stdout
    applied = auto_apply(running, str(saved), env=SECRET)
    assert applied.exit_code == 0, applied.output
    assert f"Application {STAGING} (plant-floor)" in applied.stdout
    assert "(environment staging)" in applied.stdout


def test_export_merge_refuses_a_file_that_serves_several_environments(
    root: Path, monkeypatch: pytest.MonkeyPatch, running: RunningEmulator
) -> None:
    monkeypatch.chdir(root)
    refused = run(running, "export", "--application", STAGING, "--merge", "floor.yaml")
    assert "this file serves several environments" in failed(refused)
    assert (root / "floor.yaml").read_text() == FLOOR
    # a syncer.yaml in the working directory, beside the file merged into
    plain = root / "plain"
    plain.mkdir()
    (plain / "syncer.yaml").write_text("prune: false\n")
    (plain / "a.yaml").write_text(f"application: {APP}\nintegrations: []\n")
    monkeypatch.chdir(plain)
    merged = run(running, "export", "--application", APP, "--merge", "a.yaml")
    assert merged.exit_code == 0, merged.output


def test_export_from_an_environment_leaves_its_overrides_to_syncer_yaml(
    root: Path, running: RunningEmulator
) -> None:
    line2 = next(
        i for i in exported_from(running, root, "staging")["integrations"] if i["name"] == "Line 2 broker"
    )
    assert "enabled" not in line2  # staging's `enabled: false` stays staging's


def test_an_environment_without_a_project_file_says_where_they_are_defined(tmp_path: Path) -> None:
    plain = tmp_path / "x.yaml"
    plain.write_text(f"application: {APP}\nintegrations: []\n")
    result = syncer("validate", str(plain), "--environment", "s" * 200)
    assert failed(result) == (
        f"environment '{'s' * 64}…': no syncer.yaml was found (searched upward from the paths; or "
        "name it with --project FILE), and environments are defined there"
    )


def test_a_shared_application_is_refused_at_the_same_place_in_every_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """validate checks every environment on a copy of each file, --environment on the file as
    loaded: the first `${var:}` named must be the same either way (document order)."""
    from syncer.desired import load_desired
    from syncer.errors import SyncerError

    (tmp_path / "syncer.yaml").write_text(
        "environments:\n"
        "  staging: {applications: {plant: 5f3e6a1b2c4d5e6f7a8b9c0d}, vars: {CLIENT: s}}\n"
        "  production: {applications: {plant: 6f3e6a1b2c4d5e6f7a8b9c0d}, vars: {CLIENT: p}}\n"
    )
    entry = (
        "  - name: {}\n    integrationType: mqtt\n"
        "    mqttConfig: {{host: h.example.com, port: 8883, protocol: mqtts, clientId: '${{var:CLIENT}}'}}\n"
    )
    (tmp_path / "shared.yaml").write_text(
        "application: 7f3e6a1b2c4d5e6f7a8b9c0d\nintegrations:\n" + entry.format("a") + entry.format("b")
    )
    monkeypatch.chdir(tmp_path)
    located = []
    for mode in ({"environment": "staging"}, {"every_environment": True}):
        with pytest.raises(SyncerError) as raised:
            load_desired(["."], {}, **mode)
        located.append([str(p).split(": ")[0] for p in raised.value.problems])
    assert located[0] == located[1] == ["shared.yaml:5:78"]  # the first entry's, in both
