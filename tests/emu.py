"""Raw HTTP against a running emulator (stdlib only, so tests never depend on the HTTP library
syncer uses)."""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from syncer.emulator.api import DEFAULT_TOKEN
from tests.builders import APP


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


def collection(app: str = APP) -> str:
    return f"/applications/{app}/integrations"


def credentials_path(app: str = APP) -> str:
    return f"/applications/{app}/credentials"


_GCP_KEY = (
    '{"type":"service_account","project_id":"plant-iot","private_key_id":"4f1c",'
    '"private_key":"-----BEGIN PRIVATE KEY-----\\nSECRET-gcp\\n-----END PRIVATE KEY-----\\n",'
    '"client_email":"losant@plant-iot.iam.gserviceaccount.com"}'
)
# One Credential Post body of each of the 16 types; every secret value contains "SECRET" and
# nothing else does, so an answer that leaks one is easy to see
CREDENTIALS: list[dict[str, Any]] = [
    {
        "name": "aws-prod",
        "type": "aws",
        "description": "SQS and S3 for the plant",
        "awsConfig": {
            "accessKeyId": "AKIAEXAMPLEKEY123",
            "secretAccessKey": "SECRET-aws",
            "region": "eu-west-1",
        },
    },
    {"name": "azure-sas", "type": "azure", "azureConfig": {"account": "plant", "accountKey": "SECRET-azure"}},
    {"name": "gcp-service-account", "type": "gcp", "gcpConfig": {"keyJson": _GCP_KEY}},
    {
        "name": "http-api",
        "type": "http",
        "httpConfig": {
            "uriMatch": "https://api.example.com/*",
            "authMethod": "header",
            "publicValue": "Authorization",
            "secretValue": "SECRET-http",
        },
    },
    {"name": "sendgrid", "type": "sendgrid", "sendgridConfig": {"apiKey": "SECRET-sendgrid"}},
    {
        "name": "twilio",
        "type": "twilio",
        "twilioConfig": {"accountSid": "AC123", "apiKeySid": "SK123", "apiKeySecret": "SECRET-twilio"},
    },
    {"name": "loggly", "type": "loggly", "logglyConfig": {"customerToken": "SECRET-loggly"}},
    {
        "name": "jwt-signer",
        "type": "jwt",
        "jwtConfig": {"issuer": "plant", "algorithm": "HS256", "secret": "SECRET-jwt"},
    },
    {
        "name": "whatsapp",
        "type": "whatsapp",
        "whatsappConfig": {"accessToken": "SECRET-whatsapp", "fromNumberId": "1234567"},
    },
    {
        "name": "historian-sql",
        "type": "sql",
        "sqlConfig": {
            "system": "pg",
            "host": "db.example.com",
            "port": 5432,
            "username": "losant",
            "password": "SECRET-sql",
            "secureConnection": True,
        },
    },
    {"name": "mongo", "type": "mongodb", "mongodbConfig": {"connectionUri": "mongodb://u:SECRET-mongo@db"}},
    {"name": "mailgun", "type": "mailgun", "mailgunConfig": {"apiKey": "SECRET-mailgun"}},
    {
        "name": "snowflake",
        "type": "snowflake",
        "snowflakeConfig": {
            "host": "acct.snowflakecomputing.com",
            "username": "losant",
            "privateKey": "SECRET-sf",
        },
    },
    {
        "name": "config-repo",
        "type": "git",
        "gitConfig": {
            "type": "ssh-key",
            "cloneUrl": "git@example.com:plant/config.git",
            "generatePrivateKey": True,
        },
    },
    {
        "name": "datadog",
        "type": "datadog",
        "datadogConfig": {"site": "datadoghq.eu", "secretValue": "SECRET-dd"},
    },
    {
        "name": "broker-cert",
        "type": "certificateKeyPair",
        "enabled": False,
        "certificateKeyPairConfig": {
            "certificate": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
            "privateKey": "-----BEGIN PRIVATE KEY-----\nSECRET-cert\n-----END PRIVATE KEY-----",
        },
    },
]
