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

from syncer.environments import NAME_PATTERN, NOT_OVERRIDDEN, VARIABLE_PATTERN
from syncer.interpolate import VARIABLE_NAME
from syncer.losant import CONFIG_FIELDS, OBJECT_ID_PATTERN

SCHEMA_ID = "https://github.com/syncer/syncer/schema/syncer.schema.json"
APPLICATION_PATTERN = f"(?:{OBJECT_ID_PATTERN})|(?:{NAME_PATTERN})"


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
    props["environments"] = {
        "type": "array",
        "items": {"type": "string", "pattern": NAME_PATTERN},
        "minItems": 1,
        "uniqueItems": True,
        "description": "Only in these environments of syncer.yaml (e.g. [production]); else in every one.",
    }
    post["if"] = {"properties": {"absent": {"const": True}}, "required": ["absent"]}
    post["then"] = {"required": ["name"]}
    post["else"] = {"required": ["name", "integrationType"]}
    post["description"] = "One Losant integration, with Losant's own field names."
    return post


def _export_resource(entry: dict[str, Any]) -> dict[str, Any]:
    resource = copy.deepcopy(entry)
    for own in ("previousNames", "absent", "environments"):
        del resource["properties"][own]
    resource["properties"]["id"] = {"type": "string", "description": "Export placeholder; ignored."}
    resource["properties"]["exportHash"] = {"type": "string", "description": "Ignored."}
    for key in ("if", "then", "else"):
        resource.pop(key)
    resource["required"] = ["name", "integrationType"]
    return resource


WHOLE_VARIABLE = {
    "type": "string",
    "pattern": rf"^\$\{{var:{VARIABLE_NAME}\}}$",
    "description": "An environment's variable (syncer.yaml), which takes its type.",
}


def _variables_allowed(node: Any) -> Any:
    """`node` where a number or a boolean may also be written `${var:NAME}` (as in a file before
    the environment's variables are put in): for editors."""
    if isinstance(node, list):
        return [_variables_allowed(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _variables_allowed(value) for key, value in node.items()}
    types = node.get("type")
    typed = {types} if isinstance(types, str) else set(types) if isinstance(types, list) else set()
    if typed & {"integer", "number", "boolean"} and "string" not in typed:
        return {"anyOf": [out, WHOLE_VARIABLE]}
    return out


def editor_schema() -> dict[str, Any]:
    """The file schema as `syncer schema` prints it: a typed field may be a whole `${var:NAME}`."""
    schema = file_schema()
    return {**schema, "$defs": _variables_allowed(schema["$defs"])}


@cache
def file_schema() -> dict[str, Any]:
    """The schema of one integrations file (native format or a Losant export), as syncer checks
    it: once the variables are put in."""
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
            "application": {
                "type": "string",
                "pattern": APPLICATION_PATTERN,
                "description": (
                    "The Losant application id (24 hex characters), or an alias that the "
                    "environments of syncer.yaml map to one (--environment picks)."
                ),
            },
            "integration": entry,
            "exportResource": _export_resource(entry),
            "integrationsFile": {
                "type": "object",
                "properties": {
                    "application": {"$ref": "#/$defs/application"},
                    "integrations": {"type": "array", "items": {"$ref": "#/$defs/integration"}},
                },
                "required": ["application", "integrations"],
                "additionalProperties": False,
            },
            "exportFile": {
                "type": "object",
                "properties": {
                    "application": {"$ref": "#/$defs/application"},
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


def _environments_schema() -> dict[str, Any]:
    name = {"type": "string", "pattern": NAME_PATTERN}
    override = {
        "type": "object",
        "minProperties": 1,
        "propertyNames": {"not": {"enum": list(NOT_OVERRIDDEN)}},
        "description": "Fields set on the entry in this environment (mappings merge, the rest replaces).",
    }
    return {
        "type": "object",
        "description": (
            "Named environments (e.g. staging, production): the application id of each alias the "
            "files name, plain variables for ${var:NAME}, and overrides of named entries."
        ),
        "propertyNames": name,
        "additionalProperties": {
            "type": "object",
            "properties": {
                "applications": {
                    "type": "object",
                    "propertyNames": name,
                    "additionalProperties": {"type": "string", "pattern": OBJECT_ID_PATTERN},
                    "description": "alias -> Losant application id",
                },
                "vars": {
                    "type": "object",
                    "propertyNames": {"type": "string", "pattern": VARIABLE_PATTERN},
                    "additionalProperties": {"type": ["string", "number", "boolean"]},
                    "description": "Plain values for ${var:NAME}: shown in plans (never a secret).",
                },
                "overrides": {
                    "type": "object",
                    "propertyNames": name,
                    "additionalProperties": {"type": "object", "additionalProperties": override},
                    "description": "alias -> entry name -> fields, e.g. {plant-floor: {L1: {enabled: no}}}",
                },
            },
            "additionalProperties": False,
        },
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
            "environments": _environments_schema(),
            "applications": {
                "type": "object",
                "description": "Policy per application: its id, or an alias of the environments.",
                "propertyNames": {"type": "string", "pattern": APPLICATION_PATTERN},
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
