"""`syncer demo`: the main job on a built-in emulator, no account needed.

An emulator starts in this process, seeded with live applications that drifted from
examples/integrations in every way the tool handles (an edited field, a deleted integration, a
rename, an explicit deletion, an integration created by hand, one syncer must never touch). Then
validate, plan, apply and drift run against it, printed as a user would see them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import syncer
from syncer.emulator.api import DEFAULT_TOKEN, Emulator, EmulatorConfig
from syncer.emulator.server import RunningEmulator

PLANT = "5f3e6a1b2c4d5e6f7a8b9c0d"
FLEET = "60a7c2e4f1b3d5a7c9e1f3a5"
SECRETS = {
    "LINE1_MQTT_PASSWORD": "demo-line1-password",
    "LINE2_MQTT_CERTIFICATE": "-----BEGIN CERTIFICATE-----\nMIIBdemo\n-----END CERTIFICATE-----",
    "LINE2_MQTT_PRIVATE_KEY": "-----BEGIN PRIVATE KEY-----\nMIIEdemo\n-----END PRIVATE KEY-----",
    "FLEET_PARTICLE_TOKEN": "demo-particle-token",
    "FLEET_DISPATCH_TOKEN": "demo-dispatch-token",
    "BROKER_PASSWORD": "demo-broker-password",
}
# examples/environments: one definition, a staging and a production application
STAGING, PRODUCTION = "64f0a1b2c3d4e5f6a7b8c9d0", "64f0a1b2c3d4e5f6a7b8c9d1"


def _broker(name: str, host: str, port: int, **more: Any) -> dict[str, Any]:
    topic = name.split()[0].lower() + name.split()[1]
    return {
        "name": name,
        "integrationType": "mqtt",
        "topics": [f"plant/{topic}/#"],
        "mqttConfig": {"host": host, "port": port, "protocol": "mqtts", **more},
    }


# production as the files make it, already live; staging is new
PRODUCTION_LIVE = [
    _broker(
        "Line 1 broker", "broker.example.com", 8883, username="line1", password=SECRETS["BROKER_PASSWORD"]
    ),
    _broker("Line 2 broker", "line2.broker.example.com", 8883),
    _broker("Backup broker", "backup.example.com", 8883),
]
# the service credentials the example files name (credentialName); their secrets are fake
CREDENTIALS: dict[str, list[dict[str, Any]]] = {
    PLANT: [
        {
            "name": "plant-azure-sas",
            "type": "azure",
            "azureConfig": {"account": "plant", "accountKey": "demo-key"},
        },
        {
            "name": "plant-gcp-historian",
            "type": "gcp",
            "gcpConfig": {"keyJson": '{"type": "service_account"}'},
        },
    ],
    FLEET: [
        {
            "name": "fleet-aws-sqs",
            "type": "aws",
            "awsConfig": {
                "accessKeyId": "AKIADEMO00000000",
                "secretAccessKey": "demo-secret",
                "region": "us-east-1",
            },
        }
    ],
}
LINE1: dict[str, Any] = {
    "name": "Line 1 broker",
    "integrationType": "mqtt",
    "enabled": True,
    "topics": ["plant/line1/+/telemetry", "plant/line1/+/alarms"],
    "mqttConfig": {
        "host": "mqtt.line1.plant.example.com",
        "port": 1883,
        "protocol": "mqtts",
        "clientId": "losant-line1",
        "username": "losant",
        "password": "demo-line1-password",
        "clean": True,
        "protocolVersion": "5",
    },
}
LIVE: dict[str, list[dict[str, Any]]] = {
    PLANT: [
        LINE1,  # port edited in the Losant UI (the files say 8883)
        {
            "name": "Quality events (Event Hub)",
            "integrationType": "azureEventHub",
            "credentialName": "plant-azure-sas",
            "azureEventHubConfig": {
                "hubName": "quality-events",
                "hostName": "plant-iot.servicebus.windows.net",
                "consumerGroup": "losant",
            },
        },
        {
            "name": "Historian (Pub/Sub)",
            "integrationType": "googlePubSub",
            "credentialName": "plant-gcp-historian",
            "topics": ["projects/plant-historian/topics/telemetry"],
            "googlePubSubConfig": {"projectId": "plant-historian"},
        },
        # "Line 2 broker" was deleted by hand; a colleague's experiment syncer must never touch:
        {
            "name": "Manual test bridge",
            "integrationType": "mqtt",
            "mqttConfig": {"host": "test.example.com", "port": 1883, "protocol": "mqtt"},
        },
    ],
    FLEET: [
        {
            "name": "Telematics queue",
            "integrationType": "sqs",
            "credentialName": "fleet-aws-sqs",
            "sqsConfig": {
                "queueUrl": "https://sqs.eu-west-1.amazonaws.com/123456789012/fleet-telematics",
                "region": "eu-west-1",
            },
        },
        {
            "name": "Trackers (Particle)",
            "integrationType": "particle",
            "enabled": False,  # switched off by hand
            "particleConfig": {
                "accessToken": "demo-particle-token",
                "productSlugOrId": "fleet-tracker-v3",
                "orgSlugOrId": "fleet-ops",
            },
        },
        {
            "name": "Dispatch websocket",
            "integrationType": "websocket",  # renamed in the files
            "websocketConfig": {
                "url": "wss://dispatch.example.com/api/socket",
                "disableSSLVerification": False,
                "headers": [{"headerKey": "Authorization", "headerValue": "Bearer demo-dispatch-token"}],
            },
        },
        {
            "name": "Old GPS bridge",
            "integrationType": "particle",  # `absent: true` in the files
            "particleConfig": {"accessToken": "demo-old-gps-token"},
        },
        {
            "name": "Sandbox relay",
            "integrationType": "websocket",  # created by hand; this app prunes
            "websocketConfig": {"url": "wss://sandbox.example.com/relay"},
        },
    ],
}


def examples_dir(name: str = "integrations") -> Path:
    """The examples shipped in the wheel, or those of the checkout syncer runs from."""
    package = Path(syncer.__file__).parent
    for candidate in (package / "_examples" / name, package.parent / "examples" / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"examples/{name} not found beside the syncer package")


def _shown(path: Path) -> str:
    return os.path.relpath(path) if not os.path.relpath(path).startswith("..") else str(path)


Invoke = Callable[[list[str], Mapping[str, str]], int]


def run_demo(invoke: Invoke, echo: Callable[[str], None], base_env: Mapping[str, str]) -> int:
    """validate, plan, apply and drift against an emulator seeded with drifted applications."""
    examples, environments = _shown(examples_dir()), _shown(examples_dir("environments"))
    emulator = Emulator(EmulatorConfig(applications=(PLANT, FLEET, STAGING, PRODUCTION)))
    emulator.seed(PRODUCTION, PRODUCTION_LIVE)
    for app, bodies in LIVE.items():
        seeded = emulator.seed(app, bodies)
        emulator.seed_flows(  # a workflow that still listens to the integration the files delete
            app,
            [
                {"name": "Vehicle tracking", "triggers": [{"type": "integration", "key": record["id"]}]}
                for record in seeded
                if record["name"] == "Old GPS bridge"
            ],
        )
    for app, credentials in CREDENTIALS.items():
        emulator.seed_credentials(app, credentials)
    keep = {k: v for k, v in base_env.items() if not k.startswith(("LOSANT_", "GITHUB_", "SYNCER_"))}
    with RunningEmulator(emulator) as running:
        env = {**keep, **SECRETS, "LOSANT_API_URL": running.url, "LOSANT_API_TOKEN": DEFAULT_TOKEN}
        echo(f"syncer demo: a Losant emulator is running on {running.url}, holding two applications that")
        echo("drifted from the files in examples/integrations. Secrets come from environment variables.\n")
        steps = [
            ("Check the files offline: YAML, schema, names, variables.", ["validate", examples], 0),
            (
                "Read Losant and show what apply would change (read-only), and which workflows a\n"
                "   deletion breaks: apply would refuse unless told (--allow-breaking-workflows).",
                ["plan", "--allow-breaking-workflows", examples],
                0,
            ),
            (
                "Apply it: creates and updates, then deletes; a re-read checks it stuck, and --wait\n"
                "   waits until each written integration has connected.",
                ["apply", "--auto-approve", "--allow-breaking-workflows", "--wait", "20", examples],
                0,
            ),
            ("What a scheduled drift check says now.", ["drift", examples], 0),
            (
                "Environments: the files of examples/environments name an alias; staging gets its own\n"
                "   application id and variables (a host, a port), and disables one broker.",
                ["apply", "--auto-approve", "--environment", "staging", environments],
                0,
            ),
            (
                "Before promoting: how production differs from staging, after their variables\n"
                "   (exit 2: they differ).",
                ["compare", "--from", "staging", "--to", "production", environments],
                2,
            ),
        ]
        for number, (why, args, expected) in enumerate(steps, 1):
            echo(f"== {number}/{len(steps)} $ syncer {' '.join(args)}\n   {why}\n")
            code = invoke(args, env)
            echo("")
            if code != expected:
                echo(f"demo: step {number} exited {code}, expected {expected}")
                return 1
    echo("Done. Next: `syncer emulator` for a long-running emulator, or point LOSANT_API_URL and")
    echo("LOSANT_API_TOKEN at your own application and run `syncer export --application ID`.")
    return 0
