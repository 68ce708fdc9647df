"""The plan as JSON for tools: a versioned, documented schema (docs/plan-json.md).

Every change lists the exact requests it sends; bodies have each secret replaced by
"(sensitive)", and each field says whether it is sensitive.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from syncer.compare import HIDDEN, MISSING
from syncer.fields import FieldChange
from syncer.live import Impact
from syncer.plan import Change, Plan, Targeted
from syncer.render.formats import versioned
from syncer.secrets import mask_value

FORMAT_VERSION = 1


def fields_json(
    fields: Sequence[FieldChange], before: str = "before", after: str = "after"
) -> list[dict[str, Any]]:
    """Each field as `{path, sensitive, before, after}`, secrets masked, absent sides left out."""
    out = []
    for field in fields:
        entry: dict[str, Any] = {"path": field.dotted, "sensitive": field.sensitive}
        if field.before is HIDDEN:
            entry["hiddenLive"] = True  # the API does not show it: sent because of --push-secrets
        elif field.before is not MISSING:
            entry[before] = field.shown_before()
        if field.after is not MISSING:
            entry[after] = field.shown_after()
        out.append(entry)
    return out


def impact_json(impact: Impact | None) -> dict[str, Any] | None:
    """A delete's or replace's workflows (null for other changes); `known` false means the token
    could not list them, and apply then refuses as if they were used."""
    if impact is None:
        return None
    return {
        "known": not impact.unknown,
        "why": impact.unknown or None,
        "workflows": [
            {"id": w.workflow_id, "name": w.name, "flowClass": w.flow_class, "via": w.via}
            for w in impact.workflows
        ],
    }


def change_json(change: Change) -> dict[str, Any]:
    """One change for tools: its requests (secrets masked) and fields."""
    return {
        "action": change.action,
        "applicationId": change.application_id,
        "name": change.name,
        "integrationType": change.integration_type,
        "integrationId": change.integration_id,
        "reason": change.reason,
        "source": str(change.source) if change.source else None,
        "renamedFrom": change.renamed_from,
        "notes": list(change.notes),
        "workflowImpact": impact_json(change.impact),
        "fields": fields_json(change.fields),
        "requests": [
            {
                "method": r.method,
                "path": r.path,
                **({"body": mask_value((), dict(r.body), change.env_labels)} if r.body is not None else {}),
            }
            for r in change.requests()
        ],
    }


def scope_json(report: Targeted) -> dict[str, Any]:
    """Whether a plan or drift report is partial, its target, and what apply would refuse."""
    return {
        "partial": report.partial,
        "target": {"names": list(report.target.names), "applications": list(report.target.applications)},
        "refusal": report.refusal,
        "environment": report.environment,
    }


def plan_json(plan: Plan) -> dict[str, Any]:
    """A plan for tools (docs/plan-json.md)."""
    counts = plan.counts()
    return {
        **versioned(FORMAT_VERSION),
        "hasChanges": plan.has_changes,
        **scope_json(plan),
        "summary": {**counts, "unmanaged": len(plan.unmanaged), "text": plan.summary()},
        "applications": [
            {"applicationId": app, "alias": plan.aliases.get(app), "prune": plan.pruning.get(app, False)}
            for app in plan.applications
        ],
        "changes": [change_json(c) for c in plan.changes],
        "unmanaged": [
            {
                "applicationId": u.application_id,
                "integrationId": u.integration_id,
                "name": u.name,
                "integrationType": u.integration_type,
                "reason": u.reason,
            }
            for u in plan.unmanaged
        ],
    }
