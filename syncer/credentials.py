"""Service credentials that integrations name (`credentialName`), checked before any write.

Losant stores the secret of a Google Pub/Sub, SQS or Azure integration in an application
Service Credential; the integration only names it. A name that does not exist, or a credential
of a type that cannot serve the integration, would be accepted by the files and fail in Losant,
so the plan stops on it, located in the file (losant-api.md §9).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from syncer.desired import DesiredIntegration, DesiredState
from syncer.errors import Problem
from syncer.losant import INTEGRATION_TYPES


def credential_names(desired: DesiredState) -> dict[str, list[DesiredIntegration]]:
    """Per application, the entries that name a credential: the applications worth a read."""
    out: dict[str, list[DesiredIntegration]] = {}
    for item in desired.integrations:
        # an unknown name (an unset variable, with --env-optional) cannot be checked
        if (
            not item.absent
            and isinstance(item.body.get("credentialName"), str)
            and ("credentialName",) not in item.unset
        ):
            out.setdefault(item.application_id, []).append(item)
    return out


def credential_problems(
    users: Mapping[str, Sequence[DesiredIntegration]],
    credentials: Mapping[str, Sequence[Mapping[str, Any]]],
) -> list[Problem]:
    """Each entry whose credential is missing or of the wrong type, located at its credentialName."""
    problems: list[Problem] = []
    for app, entries in users.items():
        by_name = {str(c.get("name")): c for c in credentials.get(app, ())}
        for entry in entries:
            name = str(entry.body["credentialName"])
            found = by_name.get(name)
            if found is None:
                known = ", ".join(repr(n) for n in sorted(by_name)[:5]) or "none"
                problems.append(
                    entry.problem(
                        "credentialName",
                        f"application {app} has no service credential named {name!r} (it has: {known}); "
                        "create it in Losant (Application > Service Credentials) or correct the name",
                    )
                )
                continue
            described = INTEGRATION_TYPES.get(str(entry.integration_type))
            fitting = described.credential_types if described else None
            credential_type = found.get("type")
            if fitting is not None and credential_type not in fitting:
                problems.append(
                    entry.problem(
                        "credentialName",
                        f"service credential {name!r} is of type {credential_type!r}, and a "
                        f"{entry.integration_type} integration needs one of type "
                        f"{' or '.join(sorted(fitting))}; "
                        "name another credential",
                    )
                )
    return problems
