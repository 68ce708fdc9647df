"""Application service credentials, as losant-rest-js v1.30.0 publishes them.

Only what the list endpoint needs: a record from a `Credential Post` body, and the record as the
API shows it. Secret values are write-only (docs.losant.com: "This value cannot be retrieved
after creating or updating the credential"): the stored record keeps them, and what is shown is
cut down to the fields the published read schema `credential.json` has. That schema, not a list
kept here, decides what is secret.

The read schema also has fields the server derives from a secret, two of them required
(`gcpConfig.keyMetaJson`, `snowflakeConfig.publicKey`). How Losant derives them is not published;
the emulator's versions are stand-ins of the right type (docs/decisions.md).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from typing import Any

from syncer.schema import losant_schema


def new_credential(app_id: str, credential_id: str, stamp: str, body: dict[str, Any]) -> dict[str, Any]:
    """The stored record for a validated Post body: server fields, defaults, derived fields."""
    record: dict[str, Any] = {
        "id": credential_id,
        "applicationId": app_id,
        "creationDate": stamp,
        "lastUpdated": stamp,
        "enabled": True,  # as for integrations; the published example shows true
        **copy.deepcopy(body),
    }
    for key, value in list(record.items()):
        if key.endswith("Config") and isinstance(value, dict):
            # the Post schema lets sqlConfig.port be null, the read schema does not: null is unset
            record[key] = {k: v for k, v in value.items() if v is not None}
    gcp = record.get("gcpConfig")
    if isinstance(gcp, dict) and "keyJson" in gcp:
        gcp["keyMetaJson"] = _key_meta(gcp["keyJson"])
    snowflake = record.get("snowflakeConfig")
    if isinstance(snowflake, dict):
        seed = snowflake.get("privateKey") or credential_id
        snowflake["publicKey"] = _pem("PUBLIC KEY", seed)
    git = record.get("gitConfig")
    if isinstance(git, dict) and git.get("generatePrivateKey"):
        git["publicKey"] = "ssh-ed25519 " + _fingerprint(credential_id) + " losant-emulator"
    return record


def shown(record: dict[str, Any]) -> dict[str, Any]:
    """The record as GET shows it: only what the read schema has, so never a secret."""
    read = losant_schema("credential")["properties"]
    out: dict[str, Any] = {}
    for key, value in record.items():
        if key not in read:
            continue
        fields = read[key].get("properties")
        if isinstance(value, dict) and fields is not None:
            value = {k: copy.deepcopy(v) for k, v in value.items() if k in fields}
        out[key] = value
    return out


def _key_meta(key_json: str) -> str:
    """A service account key's metadata: the key file without its private key (assumed)."""
    try:
        key = json.loads(key_json)
    except ValueError:
        key = None
    if not isinstance(key, dict):
        raise ValueError("credential.gcpConfig.keyJson is not a JSON service account key")
    key.pop("private_key", None)
    return json.dumps(key, separators=(",", ":"))


def _fingerprint(seed: str) -> str:
    return base64.b64encode(hashlib.sha256(seed.encode()).digest()).decode()


def _pem(label: str, seed: str) -> str:
    """A PEM-shaped stand-in: the emulator makes no real keys."""
    return f"-----BEGIN {label}-----\n{_fingerprint(seed)}\n-----END {label}-----"
