"""The leak scan: every command and output format, with known token and secret values, and none
of them may appear anywhere syncer writes: stdout, stderr, plan files, reports, step summaries,
step outputs, exports, debug traces, error messages."""

from __future__ import annotations

import base64
import html
import json
import random
import re
import subprocess
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote, quote_plus

import pytest

from syncer.emulator.faults import FaultRule
from syncer.emulator.server import RunningEmulator
from syncer.emulator.testing import running_emulator
from syncer.render.escape import markdown_text
from syncer.secrets import Redactor
from tests.builders import APP, FLEET, integration, particle
from tests.e2e import actions_env, run, tree, write_tree
from tests.emu import call
from tests.helpers import PYTHON_M_SYNCER, JsonApi, failed, serving, syncer


def _pem(seed: int) -> str:
    body = base64.b64encode(random.Random(seed).randbytes(1190)).decode()
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return "-----BEGIN PRIVATE KEY-----\n" + "\n".join(lines) + "\n-----END PRIVATE KEY-----\n"


# what real ones look like: 64-character base64 lines (with `/` and `+`), a JSON key file holding
# such a key JSON-escaped, and a password beyond ASCII
PEM_KEY = _pem(7)
GCP_KEY_FILE = json.dumps(
    {
        "type": "service_account",
        "project_id": "plant-LEAK-a17f",
        "private_key_id": "0f3b5c9e2d7a4b18c6e0f2a4b6c8d0e1f3a5b7c9",
        "private_key": _pem(8),
        "client_email": "syncer-LEAK@plant-a17f.iam.gserviceaccount.com",
        "token_uri": "https://oauth2.googleapis.com/token",
    },
    indent=2,
)
NON_ASCII_PASSWORD = "Pässwörd-ÄÖÜ/€-LEAK-😀-ß"

TOKEN = "tok3n-LEAK-4c7e19"
SECRETS = {
    "MQTT_PASSWORD": "pw-LEAK-83d2",
    "MQTT_KEY": "-----BEGIN KEY-----\nkey-LEAK-71f0\n-----END KEY-----",
    "PARTICLE_TOKEN": "pt-LEAK-5a61",
    "HEADER_VALUE": "Bearer hv-LEAK-0b9e",
    "SQS_SECRET": "sqs-LEAK-9e3c",
    "AZURE_CONNECTION": "Endpoint=sb://x/;SharedAccessKey=az-LEAK-66f1",
    "GCP_KEY": '{"private_key": "gcp-LEAK-2d8a"}',
    "WS_PASSWORD": NON_ASCII_PASSWORD,
    "WS_KEY": PEM_KEY,
    "GCP_KEY_FILE": GCP_KEY_FILE,
}
LIVE_SECRETS = ["old-pw-LEAK-1c", "old-pt-LEAK-2d", "manual-LEAK-3e"]
NEEDLES = [TOKEN, *SECRETS.values(), *LIVE_SECRETS]


def _broker(port: int, **secrets: str) -> dict[str, Any]:
    return integration("Broker", "mqtt", host="h", port=port, protocol="mqtts", **secrets)


# every type of integration, every secret read from the environment
FILES = [
    _broker(8883, password="${env:MQTT_PASSWORD}", privateKey="${env:MQTT_KEY}"),
    integration("Trackers", "particle", accessToken="${env:PARTICLE_TOKEN}"),
    integration(
        "Feed",
        "websocket",
        url="wss://x",
        password="${env:WS_PASSWORD}",
        privateKey="${env:WS_KEY}",
        headers=[{"headerKey": "Authorization", "headerValue": "${env:HEADER_VALUE}"}],
    ),
    integration("Queue", "sqs", queueUrl="q", secretAccessKey="${env:SQS_SECRET}"),
    integration(
        "Hub", "azureEventHub", hubName="h", consumerGroup="c", connectionString="${env:AZURE_CONNECTION}"
    ),
    integration("PubSub", "googlePubSub", keyJson="${env:GCP_KEY}"),
    integration("PubSub 2", "googlePubSub", keyJson="${env:GCP_KEY_FILE}"),
]
# live, holding LIVE_SECRETS: the files change the first two; the third they do not declare
LIVE = [
    _broker(1883, password=LIVE_SECRETS[0]),
    integration("Trackers", "particle", accessToken=LIVE_SECRETS[1]),
    integration("Manual", "particle", accessToken=LIVE_SECRETS[2]),
]


def _files(root: Path) -> Path:
    return tree(root, *FILES)


@contextmanager
def _emulator(*live: dict[str, Any]) -> Iterator[RunningEmulator]:
    """An emulator that takes TOKEN, holding `live`."""
    with running_emulator() as running:
        running.emulator.tokens[TOKEN] = ("all.Application",)
        running.emulator.seed(APP, list(live))
        yield running


def _forms(needle: str) -> set[str]:
    """How a leaked needle could look: as is, JSON-escaped one to three times (non-ASCII as
    \\uXXXX or not, `/` as `\\/` or not), URL-encoded, escaped for a GitHub workflow command; and
    so could each of its lines (real line breaks, or JSON-escaped ones inside a key file)."""
    pieces = {needle, *needle.splitlines(), *needle.split("\\n")}
    forms: set[str] = set()
    for piece in pieces:
        layer = {piece}
        forms |= {piece, quote(piece, safe=""), quote_plus(piece)}
        forms.add(piece.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"))
        # as web servers and gateways echo it: lower-case percent-encoding, HTML entities
        # (named, numeric), HTML-safe JSON (Go, Java: `&` as \u0026)
        forms.add(re.sub("%[0-9A-F]{2}", lambda m: m.group(0).lower(), quote(piece, safe="")))
        forms |= {html.escape(piece), "".join(f"&#{ord(c)};" if c in "&<>\"'" else c for c in piece)}
        forms.add(
            json.dumps(piece)[1:-1].replace("&", "\\u0026").replace("<", "\\u003c").replace("'", "\\u0027")
        )
        for _ in range(3):
            layer = {
                form
                for text in layer
                for ascii_only in (True, False)
                for form in (json.dumps(text, ensure_ascii=ascii_only)[1:-1],)
                for form in (form, form.replace("/", "\\/"))
            }
            forms |= layer
    return {form for form in forms if len(form) >= 8}


def _shown_forms(needle: str) -> set[str]:
    """`_forms`, and each escaped for Markdown: syncer redacts text before it escapes it, so the
    redactor never has to know this form (and a leak in it is the escaping done first)."""
    forms = _forms(needle)
    return forms | {markdown_text(form) for form in forms}


def _hunt(text: str, where: str, needles: Iterable[str] = NEEDLES) -> None:
    for needle in needles:
        for form in _shown_forms(needle):
            assert form not in text, f"{where} leaks {form!r}"


def test_nothing_leaks_from_any_command_or_output(tmp_path: Path) -> None:
    written: list[Path] = []
    outputs: list[str] = []
    with _emulator(*LIVE) as running:
        files = str(_files(tmp_path / "files"))
        env: dict[str, str | None] = {**SECRETS, **actions_env(tmp_path)}

        def syncer(*args: str) -> None:
            result = run(running, *args, env=env, token=TOKEN)
            outputs.append(f"$ syncer {' '.join(args)}\n{result.stdout}\n{result.stderr}")

        for debug in ((), ("--debug",)):
            for fmt in ("text", "json"):
                syncer(*debug, "validate", files, "--format", fmt)
                syncer(*debug, "ping", files, "--format", fmt)
            for fmt in ("text", "json", "markdown"):
                syncer(
                    *debug, "status", files, "--format", fmt, "--report", str(tmp_path / f"status-{fmt}.md")
                )
            for fmt in ("text", "json", "markdown"):
                syncer(*debug, "plan", files, "--format", fmt, "--report", str(tmp_path / f"plan-{fmt}.md"))
                syncer(*debug, "drift", files, "--format", fmt, "--report", str(tmp_path / f"drift-{fmt}.md"))
                for partial in (("--env-optional",), ("--target", "*", "--color", "always")):
                    syncer(*debug, "plan", files, "--format", fmt, *partial)
                    syncer(*debug, "drift", files, "--format", fmt, *partial)
            syncer(*debug, "plan", files, "--out", str(tmp_path / "plan.json"))
            syncer(
                *debug,
                "plan",
                files,
                "--prune",
                "--max-deletes",
                "0",
                "--report",
                str(tmp_path / "refused.md"),
            )
        written += [tmp_path / "plan.json", *tmp_path.glob("*.md")]
        syncer("--debug", "apply", str(tmp_path / "plan.json"), "--auto-approve", "--format", "json")
        running.emulator.seed(APP, [integration("Extra", "particle", accessToken="extra-LEAK-4f")])
        NEEDLES.append("extra-LEAK-4f")
        syncer("--debug", "apply", files, "--auto-approve", "--prune", "--report", str(tmp_path / "apply.md"))
        syncer("apply", files, "--auto-approve", "--format", "markdown")
        syncer("--debug", "apply", files, "--auto-approve", "--wait", "5", "--format", "json")
        running.emulator.faults.rules.append(FaultRule("500", on=("patch",)))  # error paths too
        env["MQTT_PASSWORD"] = "pw-LEAK-83d2-rotated"
        NEEDLES.append("pw-LEAK-83d2-rotated")
        syncer("--debug", "apply", files, "--auto-approve", "--max-attempts", "2", "--retry-time", "3")
        syncer("--debug", "apply", str(tmp_path / "plan.json"), "--auto-approve")  # stale plan refused
        running.emulator.faults.clear()
        syncer("--debug", "plan", files, "--api-url", running.url, "--token-file", str(tmp_path / "missing"))
        export_dir = tmp_path / "export"
        syncer("--debug", "export", "--application", APP, "--out", str(export_dir))
        syncer("export", "--application", APP)
        merged = tmp_path / "merge" / "merged.yaml"  # a tree of its own: files/ holds the same names
        merged.parent.mkdir()
        merged.write_text(f"application: {APP}\nintegrations: []\n")
        syncer("--debug", "export", "--application", APP, "--merge", str(merged))
        syncer("--debug", "export", "--application", APP, "--merge", str(merged))  # merged again
        written += [*export_dir.iterdir(), merged, tmp_path / "summary.md", tmp_path / "output.txt"]
        running.emulator.tokens.pop(TOKEN)
        # the token rejected: 401 with the token in hand, and failure reports
        syncer("--debug", "plan", files, "--report", str(tmp_path / "failed-plan.md"))
        syncer("--debug", "drift", files, "--report", str(tmp_path / "failed-drift.md"))
        syncer("--debug", "apply", files, "--auto-approve", "--report", str(tmp_path / "failed-apply.md"))
        syncer("--debug", "ping", files)
        written += [tmp_path / f"failed-{command}.md" for command in ("plan", "drift", "apply")]
    everything = "\n".join(outputs)
    assert "debug: -> GET" in everything  # the traces ran
    assert "Apply:" in everything
    assert "Apply would refuse:" in everything  # the refused plan ran
    assert "**Failed.**" in (tmp_path / "failed-apply.md").read_text()  # so did the failure reports
    assert "Merged into" in everything
    _hunt(everything, "the command output")
    for path in written:
        _hunt(path.read_text(), str(path))


def test_demo_output_holds_none_of_its_secrets() -> None:
    from syncer.demo import SECRETS as DEMO_SECRETS

    done = subprocess.run([*PYTHON_M_SYNCER, "--debug", "demo"], capture_output=True, text=True, check=False)
    assert done.returncode == 0
    text = done.stdout + done.stderr
    secrets = [v for k, v in DEMO_SECRETS.items() if k != "LINE2_MQTT_CERTIFICATE"]  # a certificate is public
    for value in [*secrets, "demo-old-gps-token", "emulator-token"]:
        for form in {value, *value.splitlines()}:
            if len(form) >= 8 and not form.startswith("-----"):
                assert form not in text, form


class _EchoingApi(JsonApi):
    """Losant as a careless API could be: reads pass through to the emulator, and every write is
    refused with a 400 whose message quotes the request body, JSON-escaped once and twice, as
    Node writes it (non-ASCII as is) and as PHP does (`/` as `\\/`)."""

    upstream: ClassVar[str] = ""

    def answer(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.command == "GET":
            reply = call(self.upstream, "GET", self.path, token=self.headers["Authorization"].split()[-1])
            status, answer = reply.status, reply.body
        else:
            text = body.decode()
            as_node = json.dumps(json.loads(text), ensure_ascii=False)  # JSON.stringify keeps "ü"
            as_php = json.dumps(text).replace("/", "\\/")
            message = f"echo: invalid body {text}; escaped: {json.dumps(text)}; {as_node}; {as_php}"
            status, answer = 400, {"type": "Validation", "message": message}
        self.send_json(status, answer)


def test_nothing_leaks_when_the_api_echoes_the_request_body(tmp_path: Path) -> None:
    outputs: list[str] = []
    with (
        _emulator(LIVE[1]) as running,
        serving(type("Echo", (_EchoingApi,), {"upstream": running.url})) as url,
    ):
        files = str(_files(tmp_path / "files"))
        env: dict[str, str | None] = {**SECRETS, "LOSANT_API_URL": url, **actions_env(tmp_path)}
        for args in (
            ("--debug", "apply", files, "--auto-approve", "--format", "json"),
            ("apply", files, "--auto-approve", "--format", "json", "--report", str(tmp_path / "a.md")),
            ("--debug", "apply", files, "--auto-approve"),
            ("plan", files, "--out", str(tmp_path / "plan.json")),
            ("--debug", "apply", str(tmp_path / "plan.json"), "--auto-approve", "--format", "json"),
        ):
            result = run(running, *args, env=env, token=TOKEN)
            outputs.append(f"$ syncer {' '.join(args)}\n{result.stdout}\n{result.stderr}")
    everything = "\n".join(outputs)
    assert everything.count("400 Validation: echo: invalid body") >= 8  # the API's message is shown
    assert '\\"privateKey\\": \\"***\\"' in everything  # ... and its echoed secrets masked
    _hunt(everything, "the command output")
    for path in (tmp_path / "a.md", tmp_path / "summary.md", tmp_path / "output.txt", tmp_path / "plan.json"):
        _hunt(path.read_text(), str(path))


# --- the redactor on its own ------------------------------------------------------------------

SHAPES = [PEM_KEY, GCP_KEY_FILE, NON_ASCII_PASSWORD, "tok/en+LEAK=9f%2d a b", TOKEN, "p&ss<w>rd'LEAK\"ü/x"]


@pytest.mark.parametrize(
    "secret", SHAPES, ids=["pem", "gcp-key-file", "non-ascii", "url-ish", "token", "html-ish"]
)
def test_the_redactor_masks_every_form_a_secret_can_take(secret: str) -> None:
    redact = Redactor([secret])
    for form in _forms(secret):
        shown = redact(f"error: {form} (echoed)")
        assert form not in shown
        assert "***" in shown


def test_the_redactor_masks_lines_of_a_key_shown_alone() -> None:
    lines = PEM_KEY.splitlines()
    shown = Redactor([PEM_KEY])("partial echo: " + "\\n".join(lines[3:6]) + " ...")
    assert shown == "partial echo: ***\\n***\\n*** ..."


def test_the_redactor_takes_a_key_of_the_largest_size_losant_allows() -> None:
    key = "".join(random.Random(3).choice("ab/+=\n") for _ in range(32767))
    redact = Redactor([key])
    assert redact(f"x {json.dumps(json.dumps(key))} y") == 'x "\\"***\\"" y'


def test_the_redactor_leaves_everything_else_alone() -> None:
    redact = Redactor([PEM_KEY, GCP_KEY_FILE, NON_ASCII_PASSWORD])
    text = (
        '~ update "Line 1 broker"\n    mqttConfig.certificate: "-----BEGIN CERTIFICATE-----\\nMIIB"\n'
        '    topics: ["plant/line1/ä", "https://oauth2.googleapis.com"]\n'
    )
    assert redact(text) == text


class _Padded(JsonApi):
    """Every request is refused with a long message whose secret straddles any cut a client makes."""

    secret: ClassVar[str] = ""

    def answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        padding = "".join(f"{n:03d}-" for n in range(130))  # 520 characters, no secret in them
        message = "".join(padding[:cut] + self.secret for cut in range(150, 520, 7))
        self.send_json(400, {"type": "Validation", "message": message})


def test_a_secret_cut_short_by_a_long_api_message_is_never_half_shown(tmp_path: Path) -> None:
    secret = SECRETS["MQTT_PASSWORD"]
    with serving(type("Padded", (_Padded,), {"secret": secret})) as url:
        env: dict[str, str | None] = {**SECRETS, "LOSANT_API_URL": url, "LOSANT_API_TOKEN": TOKEN}
        files = str(_files(tmp_path / "files"))
        outputs = [syncer(*args, env=env).output for args in (("--debug", "plan", files), ("plan", files))]
    everything = "\n".join(outputs)
    assert "400 Validation:" in everything
    for length in range(3, len(secret) + 1):  # no piece of it that starts the secret
        assert secret[:length] not in everything, secret[:length]


def test_values_read_from_the_environment_are_shown_by_name_only(tmp_path: Path) -> None:
    topic, host = "plant/SECRET-TOPIC-7f3a/in", "broker-SECRET-HOST-19c2.example.com"
    env: dict[str, str | None] = {
        "SECRET_TOPIC": topic,
        "BROKER_HOST": host,
        **actions_env(tmp_path),
    }
    entry: dict[str, Any] = {
        "name": "Broker",
        "integrationType": "mqtt",
        "topics": ["plain/topic", "${env:SECRET_TOPIC}"],
        "mqttConfig": {"host": "${env:BROKER_HOST}", "port": 8883, "protocol": "mqtts"},
    }
    outputs: list[str] = []
    with running_emulator() as running:
        # live differs in both fields, so the values show on both sides of every diff
        running.emulator.seed(
            APP, [{**entry, "topics": [topic], "mqttConfig": {**entry["mqttConfig"], "host": host + ".old"}}]
        )
        files = str(tree(tmp_path / "files", entry))
        for args in (
            ("plan", files),
            ("plan", files, "--format", "json"),
            ("plan", files, "--format", "markdown", "--out", str(tmp_path / "plan.json")),
            ("drift", files),
            ("drift", files, "--format", "json"),
            (
                "--debug",
                "apply",
                files,
                "--auto-approve",
                "--format",
                "json",
                "--report",
                str(tmp_path / "r.md"),
            ),
        ):
            result = run(running, *args, env=env)
            outputs.append(result.stdout + result.stderr)
        running.emulator.faults.clear()
    everything = "\n".join(outputs)
    for path in ("summary.md", "output.txt", "plan.json", "r.md"):
        everything += (tmp_path / path).read_text()
    for needle in (topic, host, "SECRET-TOPIC-7f3a", "SECRET-HOST-19c2"):
        assert needle not in everything, needle
    assert '~ topics: (sensitive) -> ["plain/topic", "(from ${env:SECRET_TOPIC})"]' in outputs[0]
    assert "~ mqttConfig.host: (sensitive) -> (from ${env:BROKER_HOST})" in outputs[0]
    assert "(from ${env:BROKER_HOST})" in outputs[1]


def test_nothing_leaks_from_environments_and_the_promotion_view(tmp_path: Path) -> None:
    # each environment's secret comes from its own ${env:}; live holds others (rotated by hand)
    staging_pw, production_pw, live_pw = "stg-LEAK-5a1f", "prd-LEAK-9c2e", "live-LEAK-77b0"
    needles = [staging_pw, production_pw, live_pw, TOKEN]
    project = {
        "environments": {
            name: {"applications": {"floor": app}, "vars": {"HOST": f"{name}.example.com"}}
            for name, app in (("staging", APP), ("production", FLEET))
        }
    }
    broker = integration(
        "Broker", "mqtt", host="${var:HOST}", port=8883, protocol="mqtts", password="${env:BROKER_PASSWORD}"
    )
    files = str(
        write_tree(
            tmp_path / "files",
            {"syncer.yaml": project, "floor.yaml": {"application": "floor", "integrations": [broker]}},
        )
    )
    outputs: list[str] = []
    with running_emulator(applications=(APP, FLEET)) as running:
        running.emulator.tokens[TOKEN] = ("all.Application",)

        def syncer(*args: str, password: str | None) -> None:
            env: dict[str, str | None] = {"BROKER_PASSWORD": password, **actions_env(tmp_path)}
            result = run(running, *args, env=env, token=TOKEN)
            outputs.append(f"$ syncer {' '.join(args)}\n{result.stdout}\n{result.stderr}")
            outputs.append((tmp_path / "summary.md").read_text() + (tmp_path / "output.txt").read_text())

        for name, password in (("staging", staging_pw), ("production", production_pw)):
            syncer("--debug", "apply", files, "--environment", name, "--auto-approve", password=password)
        live = running.emulator.integrations(FLEET)[0]
        edit = {"mqttConfig": {**live["mqttConfig"], "password": live_pw}}
        call(running.url, "PATCH", f"/applications/{FLEET}/integrations/{live['id']}", edit)
        for fmt in ("text", "json", "markdown"):
            report = str(tmp_path / f"compare-{fmt}.md")
            syncer(
                "--debug",
                "compare",
                files,
                "--from",
                "staging",
                "--to",
                "production",
                "--format",
                fmt,
                "--report",
                report,
                password=None,
            )
            outputs.append(Path(report).read_text())
            syncer("plan", files, "--environment", "production", "--format", fmt, password=production_pw)
        syncer("--debug", "export", "--environment", "production", "--application", "floor", password=None)
        syncer("validate", files, "--format", "json", password=staging_pw)
    everything = "\n".join(outputs)
    assert everything.count("Converged: a fresh read of Losant matches the files.") >= 2  # both applied
    assert "Compare staging -> production" in everything
    assert "by variables: mqttConfig.host" in everything
    _hunt(everything, "the command output", needles)


def test_markdown_redacts_live_names_before_escaping_them(tmp_path: Path) -> None:
    """Escaping for Markdown splits a secret (`tok-1` becomes `tok\\-1`), so the redactor must see
    the text first: here a live integration and the workflow that uses it are named after a
    secret the files hold, and apply would refuse to delete it (the refusal quotes both)."""
    secret = "tok-LEAK-77ab"
    files = tree(tmp_path / "files", particle("keep", token="${env:TOK}"))
    # an error that quotes a value the files read from the environment (not a secret field)
    bad = tree(tmp_path / "bad", integration("m", "mqtt", host="h", port=1883, protocol="${env:TOK}"))
    with _emulator() as running:
        stray = running.emulator.seed(APP, [particle("keep"), particle(f"stray {secret}")])[1]
        running.emulator.seed_flows(
            APP, [{"name": f"Flow {secret}", "triggers": [{"type": "integration", "key": stray["id"]}]}]
        )
        # the connection error Losant reports for "keep" quotes its token: status shows errors
        running.emulator.fail("keep", f"401 from Particle: token {secret} rejected")
        env: dict[str, str | None] = {"TOK": secret, **actions_env(tmp_path)}
        shown = []
        for args in (
            ("plan", str(files), "--prune", "--format", "markdown"),
            ("drift", str(files), "--format", "markdown"),
            ("status", str(files), "--format", "markdown"),
            ("validate", str(bad)),  # under Actions: its Markdown goes to the step summary
        ):
            result = run(running, *args, env=env, token=TOKEN)
            shown.append(result.stdout + result.stderr)
    assert "Apply would refuse" in shown[0]  # the refusal that quotes the names ran
    assert "401 from Particle" in shown[2]  # so did the status cell that quotes the error
    summary = (tmp_path / "summary.md").read_text()
    assert "### syncer validate" in summary  # the validation error about that value ran
    assert "protocol" in summary
    _hunt("\n".join([*shown, summary]), "the output", [secret])


def test_a_secret_across_the_cut_of_a_long_value_is_never_half_shown(tmp_path: Path) -> None:
    """Long values are cut at 40 characters in plans and drift reports: a secret the cut falls
    inside must be redacted before the cut, or its first characters show."""
    secret = "0123456789abcdefCANARY-SECRET-0123456789"
    live_url = f"wss://ws.example/?t={secret}&x=" + "y" * 80
    files = tree(
        tmp_path / "files",
        particle("keep", token="${env:TOK}"),
        integration("feed", "websocket", url="wss://ws.example/new", headers=[]),
    )
    with _emulator() as running:
        running.emulator.seed(
            APP, [particle("keep", token=secret), integration("feed", "websocket", url=live_url)]
        )
        shown = []
        for args in (
            ("plan", str(files)),
            ("plan", str(files), "--format", "markdown"),
            ("drift", str(files)),
            ("drift", str(files), "--format", "markdown"),
        ):
            result = run(running, *args, env={"TOK": secret}, token=TOKEN)
            assert "websocketConfig.url" in result.stdout, result.output
            shown.append(result.output)
    everything = "\n".join(shown)
    assert "wss://ws.example/?t=***" in everything
    for length in range(6, len(secret) + 1):  # no piece of it that starts the secret
        assert secret[:length] not in everything, secret[:length]


def test_a_live_name_holding_a_secret_is_never_written_to_a_plan_or_an_export(tmp_path: Path) -> None:
    """Saved plans and exports hold no secret: secret fields are masked by structure, and a live
    name or value that holds a known secret (the token, a value the files read) stops the write,
    where redacting it would break the file or rename the integration."""
    secret = "tok-LEAK-5d8e21"
    files = tree(tmp_path / "files", particle("keep", token="${env:TOK}"))
    plan_file, out = tmp_path / "plan.json", tmp_path / "out"
    with _emulator() as running:
        running.emulator.seed(APP, [particle("keep"), particle(f"stray {TOKEN}"), particle(f"odd {secret}")])
        env: dict[str, str | None] = {"TOK": secret}
        saved = run(running, "plan", str(files), "--prune", "--out", str(plan_file), env=env, token=TOKEN)
        exports = [
            run(running, "export", "--application", APP, *more, env=env, token=TOKEN)
            for more in ((), ("--out", str(out)))
        ]
        merge = files / "integrations.yaml"
        before = merge.read_text()
        merged = run(running, "export", "--application", APP, "--merge", str(merge), env=env, token=TOKEN)
    assert not plan_file.exists()
    assert not out.exists()
    assert merge.read_text() == before
    for result in (saved, *exports, merged):
        said = failed(result)
        assert "would hold a secret in clear, which a live name or value holds" in said, said
        assert "stray ***" in said
        _hunt(result.output, "the refusal", [TOKEN, secret])


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer hdr-LEAK-61"},
        ["Authorization: Bearer hdr-LEAK-61"],
        [{"headerKey": "a", "token": "hdr-LEAK-61"}],
    ],
    ids=["a mapping", "strings", "another key"],
)
def test_live_headers_of_an_unknown_shape_stop_the_run(headers: Any, tmp_path: Path) -> None:
    """syncer knows a header's secret by where it sits (headerValue): from an API that answers
    headers of another shape, nothing is planned, shown or exported."""
    files = tree(tmp_path / "files", particle("keep"))
    with _emulator() as running:
        running.emulator.seed(APP, [integration("feed", "websocket", url="wss://ws.example/")])
        running.emulator.integrations(APP)[0]["websocketConfig"]["headers"] = headers
        results = [
            run(running, *args, token=TOKEN)
            for args in (("plan", str(files)), ("drift", str(files)), ("export", "--application", APP))
        ]
        assert [r for r in running.emulator.log if r["method"] != "GET"] == []
    for result in results:
        assert (
            failed(result)
            .splitlines()[-1]
            .endswith(
                'the websocket headers of integration "feed" are not a list of headerKey and headerValue, '
                "so syncer cannot tell their secrets apart; nothing was changed"
            )
        ), result.output
        _hunt(result.output, "the output", ["hdr-LEAK-61"])
