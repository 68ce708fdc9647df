"""`export` never overwrites work: it refuses an existing file unless --force, and --merge
updates a team's file in place, keeping what only the file knows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from syncer.emulator.server import RunningEmulator
from tests.builders import APP, FLEET, broker, particle
from tests.e2e import edit_by_hand, exported, run, writes

PASSWORD, TOKEN = "pw-live-9911", "tok-live-5566"  # what Losant holds: never in a file or output

TEAM_FILE = f"""\
# Plant floor brokers: owned by the platform team
application: {APP}
integrations:
  # the main broker; the password rotates monthly
  - name: Line 1 broker
    integrationType: mqtt
    mqttConfig:
      host: ${{env:LINE1_HOST}}  # differs per site
      port: 1883
      protocol: mqtts
      clientId: c1
      username: u
      password: ${{env:LINE1_MQTT_PASSWORD}}
  - name: Line 2 broker
    previousNames: [Line 2 (old)]
    integrationType: mqtt
    mqttConfig: {{host: broker.example.com, port: 1883, protocol: mqtts,
                  clientId: c1, username: u, password: "${{env:LINE2_PASSWORD}}"}}
  - name: Retired bridge
    absent: true
  - name: Not created yet
    integrationType: particle
    particleConfig:
      accessToken: ${{env:NEW_PARTICLE_TOKEN}}
"""


@pytest.fixture
def trackers(losant_emulator: RunningEmulator) -> RunningEmulator:
    """The emulator, holding one integration."""
    losant_emulator.emulator.seed(APP, [particle("Trackers", TOKEN)])
    return losant_emulator


def test_export_refuses_to_replace_a_file_unless_forced(trackers: RunningEmulator, tmp_path: Path) -> None:
    losant_emulator = trackers
    out = tmp_path / "exported"
    target = exported(losant_emulator, out)
    target.write_text("# my edits\n" + target.read_text())
    result = run(losant_emulator, "export", "--application", APP, "--out", str(out))
    assert result.exit_code == 1
    assert result.stderr == (
        f"{target} exists: export never overwrites work; pass --force to replace it, "
        f"or --merge {target} to update its entries in place\n"
    )
    assert target.read_text().startswith("# my edits\n")
    forced = run(losant_emulator, "export", "--application", APP, "--out", str(out), "--force")
    assert forced.exit_code == 0, forced.output
    assert not target.read_text().startswith("# my edits\n")


def _merge(running: RunningEmulator, path: Path) -> Any:
    return run(running, "export", "--application", APP, "--merge", str(path))


def test_merge_takes_live_fields_and_keeps_what_only_the_file_knows(
    losant_emulator: RunningEmulator, tmp_path: Path
) -> None:
    live = losant_emulator.emulator.seed(
        APP,
        [
            broker("Line 1 broker", "site-a.example.com", PASSWORD),
            broker("Line 2 (old)", password=PASSWORD),
            particle("Made by hand", TOKEN),
        ],
    )
    path = tmp_path / "brokers.yaml"
    path.write_text(TEAM_FILE)
    result = _merge(losant_emulator, path)
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[0] == (
        f"Merged into {path}: 2 integrations refreshed from Losant, 1 added, 2 kept as written "
        "(absent, or not in Losant)"
    )
    text = path.read_text()
    # comments, identity, absent and not-yet-created entries, and every ${env:...} name stay
    for kept in (
        "# Plant floor brokers: owned by the platform team\n",
        "  # the main broker; the password rotates monthly\n",
        "host: ${env:LINE1_HOST}  # differs per site\n",
        "password: ${env:LINE1_MQTT_PASSWORD}\n",
        "    previousNames: [Line 2 (old)]\n",
        'password: "${env:LINE2_PASSWORD}"}\n',  # flow style and quotes as written
        "  - name: Retired bridge\n    absent: true\n",
        "accessToken: ${env:NEW_PARTICLE_TOKEN}\n",
    ):
        assert kept in text
    document = yaml.safe_load(text)
    by_name = {entry["name"]: entry for entry in document["integrations"]}
    assert by_name["Line 1 broker"]["mqttConfig"]["port"] == 8883  # Losant's value now
    assert by_name["Line 2 broker"]["mqttConfig"]["port"] == 8883
    assert by_name["Made by hand"]["particleConfig"] == {
        "accessToken": "${env:MADE_BY_HAND_PARTICLE_ACCESS_TOKEN}"
    }
    assert list(by_name)[-1] == "Made by hand"  # added at the end
    assert "MADE_BY_HAND_PARTICLE_ACCESS_TOKEN  (Made by hand: particleConfig.accessToken)" in result.stderr
    for secret in (PASSWORD, TOKEN):
        assert secret not in text + result.output
    assert writes(losant_emulator) == []

    # the merged file plans no change for what it took from Losant
    env = {
        "LINE1_HOST": "site-a.example.com",
        "LINE1_MQTT_PASSWORD": PASSWORD,
        "LINE2_PASSWORD": PASSWORD,
        "NEW_PARTICLE_TOKEN": "tok-new-1234",
        "MADE_BY_HAND_PARTICLE_ACCESS_TOKEN": TOKEN,
    }
    plan = run(losant_emulator, "plan", str(path), env=env)
    assert plan.exit_code == 0, plan.output
    assert 'create "Not created yet"' in plan.stdout
    assert f'update "Line 2 broker" (mqtt) {live[1]["id"]}' in plan.stdout  # the pending rename
    assert "Plan: 1 to create, 1 to update, 0 to delete." in plan.stdout


def test_merge_twice_changes_nothing_more(losant_emulator: RunningEmulator, tmp_path: Path) -> None:
    losant_emulator.emulator.seed(
        APP, [broker("Line 1 broker", password=PASSWORD), particle("Made by hand", TOKEN)]
    )
    path = tmp_path / "brokers.yaml"
    path.write_text(TEAM_FILE)
    assert _merge(losant_emulator, path).exit_code == 0
    once = path.read_text()
    again = _merge(losant_emulator, path)
    assert again.exit_code == 0
    assert path.read_text() == once
    assert "Set these environment variables" not in again.stderr  # nothing new to set


def test_merge_follows_a_pinned_id_and_takes_live_edits(
    losant_emulator: RunningEmulator, tmp_path: Path
) -> None:
    [live] = losant_emulator.emulator.seed(APP, [broker("Broker renamed in Losant")])
    edit_by_hand(losant_emulator, live["id"], '{"enabled": false}')
    path = tmp_path / "pinned.yaml"
    entry = {**broker("Broker"), "id": live["id"]}
    entry["mqttConfig"]["password"] = "${env:BROKER_PASSWORD}"
    path.write_text(yaml.safe_dump({"application": APP, "integrations": [entry]}, sort_keys=False))
    assert _merge(losant_emulator, path).exit_code == 0
    [merged] = yaml.safe_load(path.read_text())["integrations"]
    assert (merged["name"], merged["id"], merged["enabled"]) == ("Broker", live["id"], False)
    assert merged["mqttConfig"]["password"] == "${env:BROKER_PASSWORD}"


def test_merge_refuses_another_applications_file_and_an_invalid_one(
    trackers: RunningEmulator, tmp_path: Path
) -> None:
    losant_emulator = trackers
    other = tmp_path / "fleet.yaml"
    other.write_text(f"application: {FLEET}\nintegrations: []\n")
    result = _merge(losant_emulator, other)
    assert result.exit_code == 1
    assert result.stderr == (
        f"{other}: the file is for application {FLEET}, not {APP}; merge each application into its own file\n"
    )
    assert other.read_text() == f"application: {FLEET}\nintegrations: []\n"

    broken = tmp_path / "broken.yaml"
    broken.write_text(f"application: {APP}\nintegrations:\n  - name: x\n    integrationType: nope\n")
    before = len(losant_emulator.emulator.log)
    result = _merge(losant_emulator, broken)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"{broken}:4:")
    assert len(losant_emulator.emulator.log) == before  # no request for an invalid file


def test_merge_writes_live_text_literally_and_escapes_what_review_could_miss(
    losant_emulator: RunningEmulator, tmp_path: Path
) -> None:
    losant_emulator.emulator.seed(APP, [particle("Trackers", TOKEN)])
    edit_by_hand(
        losant_emulator,
        losant_emulator.emulator.integrations(APP)[0]["id"],
        '{"name": "Trackers\\u202eevil", "topics": ["${env:LOSANT_API_TOKEN}"]}',
    )
    path = tmp_path / "file.yaml"
    path.write_text(f"application: {APP}\nintegrations: []\n")
    result = _merge(losant_emulator, path)
    assert result.exit_code == 0, result.output
    text = path.read_text()
    assert "\u202e" not in text
    assert "\\u202E" in text or "\\u202e" in text
    [entry] = yaml.safe_load(text)["integrations"]
    assert entry["name"] == "Trackers\u202eevil"
    assert entry["topics"] == ["$${env:LOSANT_API_TOKEN}"]  # reads back as this text, not the token


def test_merge_and_out_do_not_mix(losant_emulator: RunningEmulator, tmp_path: Path) -> None:
    path = tmp_path / "file.yaml"
    path.write_text(f"application: {APP}\nintegrations: []\n")
    result = run(
        losant_emulator, "export", "--application", APP, "--merge", str(path), "--out", str(tmp_path)
    )
    assert result.exit_code == 1
    assert result.stderr == "--merge updates a file in place: use it without --out and --force\n"


def test_merge_keeps_defaults_unaliases_anchors_and_keeps_line_endings(
    losant_emulator: RunningEmulator, tmp_path: Path
) -> None:
    losant_emulator.emulator.seed(
        APP,
        [broker("one", "live1.example.com", PASSWORD), broker("two", "live2.example.com", PASSWORD, 1884)],
    )
    path = tmp_path / "brokers.yaml"
    text = (
        f"application: {APP}\n"
        "integrations:\n"
        "  - name: one\n"
        "    integrationType: mqtt\n"
        "    mqttConfig: &cfg\n"
        '      host: "${env:HOST1:-file1.example.com}"\n'
        "      port: 8883\n"
        "      protocol: mqtts\n"
        "      clientId: c1\n"
        "      username: u\n"
        "      password: ${env:PW}\n"
        "  - name: two\n"
        "    integrationType: mqtt\n"
        "    mqttConfig: *cfg\n"
    )
    path.write_bytes(("\ufeff" + text.replace("\n", "\r\n")).encode())
    assert _merge(losant_emulator, path).exit_code == 0
    raw = path.read_bytes().decode()
    assert raw.startswith("\ufeff")  # the BOM stays
    assert "\n" not in raw.replace("\r\n", "")  # and so do CRLF line endings
    one, two = yaml.safe_load(raw.lstrip("\ufeff"))["integrations"]
    assert one["mqttConfig"]["host"] == "${env:HOST1:-file1.example.com}"  # a default is a reference
    assert (one["mqttConfig"]["port"], two["mqttConfig"]["port"]) == (8883, 1884)  # each its own
    assert two["mqttConfig"]["password"] == "${env:PW}"


def test_merge_adds_nothing_another_file_of_the_application_declares(
    losant_emulator: RunningEmulator, tmp_path: Path
) -> None:
    losant_emulator.emulator.seed(APP, [particle("a", TOKEN), particle("b", TOKEN), particle("new", TOKEN)])
    (tmp_path / "syncer.yaml").write_text("prune: false\n")
    tree_a = tmp_path / "a.yaml"
    tree_a.write_text(f"application: {APP}\nintegrations:\n  - {{name: a, integrationType: particle}}\n")
    (tmp_path / "b.yaml").write_text(
        f"application: {APP}\nintegrations:\n  - name: b\n    integrationType: particle\n"
        '    particleConfig: {accessToken: "${env:B_TOKEN}"}\n'
    )
    assert _merge(losant_emulator, tree_a).exit_code == 0
    names = [e["name"] for e in yaml.safe_load(tree_a.read_text())["integrations"]]
    assert names == ["a", "new"]  # b stays in b.yaml only
    assert run(losant_emulator, "validate", str(tmp_path), "--env-optional").exit_code == 0


def test_new_placeholders_never_reuse_a_variable_the_tree_reads(
    losant_emulator: RunningEmulator, tmp_path: Path
) -> None:
    # two applications, each with a "Broker": one variable for both would cross their secrets
    losant_emulator.emulator.seed(APP, [broker("Broker", password=PASSWORD)])
    (tmp_path / "fleet.yaml").write_text(
        f"application: {FLEET}\nintegrations:\n  - name: Broker\n    integrationType: mqtt\n"
        "    mqttConfig: {host: h, port: 1, protocol: mqtt, password: ${env:BROKER_MQTT_PASSWORD}}\n"
    )
    result = run(losant_emulator, "export", "--application", APP, "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    exported = (tmp_path / f"{APP}.yaml").read_text()
    assert "${env:BROKER_MQTT_PASSWORD_2}" in exported


def test_merge_refuses_a_losant_export_file(trackers: RunningEmulator, tmp_path: Path) -> None:
    path = tmp_path / "application.yaml"
    path.write_text(f"application: {APP}\nresources:\n  integrations: []\n")
    result = _merge(trackers, path)
    if result.exit_code == 1 and "--merge updates files in syncer's own format" in result.stderr:
        return
    assert result.exit_code == 1, result.output  # a file the loader refuses is refused, located
