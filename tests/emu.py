"""Raw HTTP against a running emulator (stdlib only, so tests never depend on the HTTP library
syncer uses)."""

from __future__ import annotations

import http.client
import json
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from syncer.emulator.api import DEFAULT_TOKEN
from tests.builders import APP, FLEET
from tests.helpers import PYTHON_M_SYNCER, published_validator


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, str]


def call(
    url: str,
    method: str,
    path: str,
    body: Any = None,
    *,
    token: str | None = DEFAULT_TOKEN,
    raw: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10,
) -> Answer:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)
    send = dict(headers or {})
    if token is not None:
        send["Authorization"] = f"Bearer {token}"
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    if data is not None:
        send["Content-Type"] = "application/json"
    try:
        conn.request(method, path, body=data, headers=send)
        response = conn.getresponse()
        payload = response.read()
        return Answer(
            response.status,
            json.loads(payload) if payload else None,
            {k.lower(): v for k, v in response.getheaders()},
        )
    finally:
        conn.close()


def assert_published_pages(answers: list[Answer], page: str, item: str) -> None:
    """Each answer is 200 and a page of the published shape (lib/schemas/PAGE.json), each of its
    items one of ITEM.json (the test skips without the losant-rest-js mirror)."""
    page_schema, item_schema = published_validator(page), published_validator(item)
    for answer in answers:
        assert answer.status == 200
        assert list(page_schema.iter_errors(answer.body)) == []
        for entry in answer.body["items"]:
            assert list(item_schema.iter_errors(entry)) == []


def collection(app: str = APP) -> str:
    return f"/applications/{app}/integrations"


def credentials_path(app: str = APP) -> str:
    return f"/applications/{app}/credentials"


_GCP_KEY = (
    '{"type":"service_account","project_id":"plant-iot","private_key_id":"4f1c",'
    '"private_key":"-----BEGIN PRIVATE KEY-----\\nSECRET-gcp\\n-----END PRIVATE KEY-----\\n",'
    '"client_email":"losant@plant-iot.iam.gserviceaccount.com"}'
)


def _credential(name: str, credential_type: str, **config: Any) -> dict[str, Any]:
    """A Credential Post body: its name, type and config object (`<type>Config`)."""
    return {"name": name, "type": credential_type, f"{credential_type}Config": config}


# One Credential Post body of each of the 16 types; every secret value contains "SECRET" and
# nothing else does, so an answer that leaks one is easy to see
CREDENTIALS: list[dict[str, Any]] = [
    {
        **_credential(
            "aws-prod",
            "aws",
            accessKeyId="AKIAEXAMPLEKEY123",
            secretAccessKey="SECRET-aws",
            region="eu-west-1",
        ),
        "description": "SQS and S3 for the plant",
    },
    _credential("azure-sas", "azure", account="plant", accountKey="SECRET-azure"),
    _credential("gcp-service-account", "gcp", keyJson=_GCP_KEY),
    _credential(
        "http-api",
        "http",
        uriMatch="https://api.example.com/*",
        authMethod="header",
        publicValue="Authorization",
        secretValue="SECRET-http",
    ),
    _credential("sendgrid", "sendgrid", apiKey="SECRET-sendgrid"),
    _credential("twilio", "twilio", accountSid="AC123", apiKeySid="SK123", apiKeySecret="SECRET-twilio"),
    _credential("loggly", "loggly", customerToken="SECRET-loggly"),
    _credential("jwt-signer", "jwt", issuer="plant", algorithm="HS256", secret="SECRET-jwt"),
    _credential("whatsapp", "whatsapp", accessToken="SECRET-whatsapp", fromNumberId="1234567"),
    _credential(
        "historian-sql",
        "sql",
        system="pg",
        host="db.example.com",
        port=5432,
        username="losant",
        password="SECRET-sql",
        secureConnection=True,
    ),
    _credential("mongo", "mongodb", connectionUri="mongodb://u:SECRET-mongo@db"),
    _credential("mailgun", "mailgun", apiKey="SECRET-mailgun"),
    _credential(
        "snowflake",
        "snowflake",
        host="acct.snowflakecomputing.com",
        username="losant",
        privateKey="SECRET-sf",
    ),
    _credential(
        "config-repo",
        "git",
        type="ssh-key",
        cloneUrl="git@example.com:plant/config.git",
        generatePrivateKey=True,
    ),
    _credential("datadog", "datadog", site="datadoghq.eu", secretValue="SECRET-dd"),
    {
        **_credential(
            "broker-cert",
            "certificateKeyPair",
            certificate="-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
            privateKey="-----BEGIN PRIVATE KEY-----\nSECRET-cert\n-----END PRIVATE KEY-----",
        ),
        "enabled": False,
    },
]


@contextmanager
def served_by_the_cli(*args: str) -> Iterator[tuple[str, list[str]]]:
    """`syncer emulator --port 0 ARGS` in a subprocess: its URL and its banner (up to "Press Ctrl+C")."""
    with subprocess.Popen(
        [*PYTHON_M_SYNCER, "emulator", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            banner = [process.stdout.readline()]
            while banner[-1] and not banner[-1].startswith("Press Ctrl+C") and len(banner) < 20:
                banner.append(process.stdout.readline())
            assert banner[0].startswith("Losant emulator listening on http://127.0.0.1:"), banner
            yield banner[0].split()[-1], banner
        finally:
            process.terminate()
            process.wait(timeout=10)


def assert_application_is_checked(url: str, suffix: str = "") -> None:
    """`/applications/{id}{suffix}` answers as Losant does for an unknown and a malformed id."""
    for app, status, body in (
        (FLEET, 404, {"type": "NotFound", "message": "Application was not found"}),
        ("nope", 400, {"type": "Validation", "message": "applicationId pattern mismatch"}),
    ):
        answer = call(url, "GET", f"/applications/{app}{suffix}")
        assert (answer.status, answer.body) == (status, body), app
