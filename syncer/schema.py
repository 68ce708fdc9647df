"""The JSON Schema of syncer's file format, built on Losant's published Integration Post schema.

Losant's schema (shipped as package data, byte-identical to the published one) gives the field
types, lengths, enums, the azureEventHub `oneOf` and `additionalProperties: false`. syncer adds
the file envelope (`application`, `integrations`), its own entry keys (`id`, `previousNames`,
`absent`), Losant's export envelope, and the project file (`syncer.yaml`).
"""

from __future__ import annotations

import copy
import json
from functools import cache
from importlib import resources
from typing import Any

from syncer.losant import CONFIG_FIELDS, OBJECT_ID_PATTERN

SCHEMA_ID = "https://github.com/syncer/syncer/schema/syncer.schema.json"


@cache
def losant_schema(name: str) -> dict[str, Any]:
    """One of Losant's published schemas: integration, integrationPost, integrationPatch, ..."""
    text = resources.files("syncer.schemas.losant").joinpath(f"{name}.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def _integration_entry() -> dict[str, Any]:
    post = copy.deepcopy(losant_schema("integrationPost"))
    post.pop("$schema", None)
    post.pop("required", None)
    props = post["properties"]
    # null clears a credential, as Losant's Patch schema allows (a missing key leaves it alone)
    props["credentialName"] = copy.deepcopy(losant_schema("integrationPatch")["properties"]["credentialName"])
    props["id"] = {
        "$ref": "#/$defs/objectId",
        "description": "Pins the live integration by id: a rename is then one PATCH.",
    }
    props["previousNames"] = {
        "type": "array",
        "items": props["name"],
        "uniqueItems": True,
        "description": "Names this integration had before: a rename is then one PATCH.",
    }
    props["absent"] = {
        "type": "boolean",
        "description": "true deletes the live integration of this name (an explicit deletion).",
    }
    post["if"] = {"properties": {"absent": {"const": True}}, "required": ["absent"]}
    post["then"] = {"required": ["name"]}
    post["else"] = {"required": ["name", "integrationType"]}
    post["description"] = "One Losant integration, with Losant's own field names."
    return post


def _export_resource(entry: dict[str, Any]) -> dict[str, Any]:
    resource = copy.deepcopy(entry)
    for own in ("previousNames", "absent"):
        del resource["properties"][own]
    resource["properties"]["id"] = {"type": "string", "description": "Export placeholder; ignored."}
    resource["properties"]["exportHash"] = {"type": "string", "description": "Ignored."}
    for key in ("if", "then", "else"):
        resource.pop(key)
    resource["required"] = ["name", "integrationType"]
    return resource


@cache
def file_schema() -> dict[str, Any]:
    """The schema of one integrations file (native format or a Losant export)."""
    entry = _integration_entry()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "syncer integrations file",
        "description": (
            "Losant integrations of one application, as syncer manages them. "
            "Also accepts Losant's own export file (resourceType: Integration) with an "
            "added `application` key."
        ),
        "type": "object",
        "if": {"required": ["resourceType"]},
        "then": {"$ref": "#/$defs/exportFile"},
        "else": {"$ref": "#/$defs/integrationsFile"},
        "$defs": {
            "objectId": {"type": "string", "pattern": OBJECT_ID_PATTERN},
            "integration": entry,
            "exportResource": _export_resource(entry),
            "integrationsFile": {
                "type": "object",
                "properties": {
                    "application": {
                        "$ref": "#/$defs/objectId",
                        "description": "The Losant application id (24 hex characters).",
                    },
                    "integrations": {"type": "array", "items": {"$ref": "#/$defs/integration"}},
                },
                "required": ["application", "integrations"],
                "additionalProperties": False,
            },
            "exportFile": {
                "type": "object",
                "properties": {
                    "application": {"$ref": "#/$defs/objectId"},
                    "resourceType": {"const": "Integration"},
                    "version": {"const": 1},
                    "resources": {"type": "array", "items": {"$ref": "#/$defs/exportResource"}},
                },
                "required": ["application", "resourceType", "version", "resources"],
                "additionalProperties": False,
            },
        },
    }


def ignorable_paths(integration_type: str | None = None) -> list[str]:
    """Dotted paths `ignoreFields` may name: Losant's fields, for one type or for all of them.

    Name and type are identity, never ignored; a config object or any of its fields may be.
    """
    props = losant_schema("integrationPost")["properties"]
    paths = [key for key in props if key not in ("name", "integrationType") and not key.endswith("Config")]
    configs = [CONFIG_FIELDS[integration_type]] if integration_type else list(CONFIG_FIELDS.values())
    for config in configs:
        paths += [config, *(f"{config}.{field}" for field in props[config]["properties"])]
    return paths


def _ignore_fields_schema() -> dict[str, Any]:
    def paths(integration_type: str | None) -> dict[str, Any]:
        return {"type": "array", "items": {"enum": ignorable_paths(integration_type)}, "uniqueItems": True}

    return {
        "type": "object",
        "description": (
            "Fields never compared (Losant sets them itself): `all`, or an integration type, "
            "mapped to dotted paths, e.g. {mqtt: [mqttConfig.clean]}."
        ),
        "properties": {"all": paths(None), **{name: paths(name) for name in CONFIG_FIELDS}},
        "additionalProperties": False,
    }


@cache
def project_schema() -> dict[str, Any]:
    """The schema of the optional project file, `syncer.yaml`, at the root of the tree."""
    globs = {"type": "array", "items": {"type": "string", "minLength": 1}}
    ignore = _ignore_fields_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "syncer project file",
        "type": "object",
        "properties": {
            "apiUrl": {"type": "string", "pattern": "^https?://"},
            "prune": {"type": "boolean"},
            "maxDeletes": {"type": "integer", "minimum": 0},
            "allowBreakingWorkflows": {"type": "boolean"},
            "neverTouch": globs,
            "ignoreFields": ignore,
            "applications": {
                "type": "object",
                "propertyNames": {"type": "string", "pattern": OBJECT_ID_PATTERN},
                "additionalProperties": {
                    "type": "object",
                    "properties": {
                        "prune": {"type": "boolean"},
                        "allowBreakingWorkflows": {"type": "boolean"},
                        "neverTouch": globs,
                        "ignoreFields": ignore,
                    },
                    "additionalProperties": False,
                },
            },
        },
        "additionalProperties": False,
    }
