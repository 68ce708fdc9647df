"""Publishes a syncer Markdown report on GitHub, for the composite action (stdlib only).

    python github_report.py comment REPORT [--key KEY]          one sticky comment on the pull request
    python github_report.py issue REPORT --drift true|false [--key KEY]
                                              one drift issue: opened or updated while there is
                                              drift, closed once in sync

The comment or issue is found again by a hidden marker (the report's first line, plus KEY when
several jobs publish side by side). Environment: GITHUB_TOKEN, GITHUB_REPOSITORY,
GITHUB_API_URL, and for comments GITHUB_EVENT_PATH (the pull_request event).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import urllib.error
import urllib.request
from typing import Any

KEY = re.compile(r"[A-Za-z0-9._/-]{1,100}")  # a key goes inside an HTML comment: nothing that ends it


class GitHub:
    def __init__(self, api: str, repository: str, token: str) -> None:
        self.base = f"{api.rstrip('/')}/repos/{repository}"
        self.token = token

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        request = urllib.request.Request(  # noqa: S310 - the GitHub API URL from the runner
            self.base + path,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={
                "Authorization": f"Bearer {self.token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
                "Content-Type": "application/json",
            },
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            text = response.read()
        return json.loads(text) if text else None

    def find(self, path: str, marker: str) -> dict[str, Any] | None:
        page = 1
        while True:
            items = self.call("GET", f"{path}{'&' if '?' in path else '?'}per_page=100&page={page}")
            for item in items:
                if marker in (item.get("body") or ""):
                    return dict(item)
            if len(items) < 100:
                return None
            page += 1


def _marked(report: str, key: str) -> tuple[str, str]:
    """The report with its marker made unique to `key`, and that marker."""
    first, _, rest = report.partition("\n")
    marker = first.replace(" -->", f":{key} -->") if key and first.startswith("<!--") else first
    return marker, f"{marker}\n{rest}"


def comment(github: GitHub, report: str, key: str, event_path: str) -> str:
    with open(event_path, encoding="utf-8") as handle:
        number = json.load(handle)["pull_request"]["number"]
    marker, body = _marked(report, key)
    existing = github.find(f"/issues/{number}/comments", marker)
    if existing:
        github.call("PATCH", f"/issues/comments/{existing['id']}", {"body": body})
        return f"updated comment {existing['id']} on pull request #{number}"
    created = github.call("POST", f"/issues/{number}/comments", {"body": body})
    return f"created comment {created['id']} on pull request #{number}"


def issue(github: GitHub, report: str, key: str, drift: str) -> str:
    """`drift` is syncer's own has_drift output, never read from the report: the report carries
    names from Losant, which could say anything."""
    marker, body = _marked(report, key)
    existing = github.find("/issues?state=open&labels=syncer-drift", marker)
    if drift not in ("true", "false"):
        return "drift unknown (syncer failed): the drift issue is left as it is"
    if drift == "false":
        if not existing:
            return "in sync, no drift issue open"
        number = existing["number"]
        github.call("POST", f"/issues/{number}/comments", {"body": "Live state matches the files again."})
        github.call("PATCH", f"/issues/{number}", {"state": "closed", "state_reason": "completed"})
        return f"closed issue #{existing['number']}"
    title = "Losant integrations drifted from git" + (f" ({key})" if key else "")
    if existing:
        github.call("PATCH", f"/issues/{existing['number']}", {"body": body, "title": title})
        return f"updated issue #{existing['number']}"
    created = github.call("POST", "/issues", {"title": title, "body": body, "labels": ["syncer-drift"]})
    return f"opened issue #{created['number']}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("mode", choices=["comment", "issue"])
    parser.add_argument("report")
    parser.add_argument("--key", default="")
    parser.add_argument("--drift", default="", help="issue: syncer's has_drift output (true or false)")
    args = parser.parse_args(argv)
    if args.key and not KEY.fullmatch(args.key):
        print("::error::report-key may hold letters, digits and . _ / - only (at most 100)", file=sys.stderr)
        return 1
    with open(args.report, encoding="utf-8") as handle:
        report = handle.read()
    env = os.environ
    api = env.get("GITHUB_API_URL", "https://api.github.com")
    github = GitHub(api, env["GITHUB_REPOSITORY"], env["GITHUB_TOKEN"])
    try:
        if args.mode == "comment":
            print(comment(github, report, args.key, env["GITHUB_EVENT_PATH"]))
        else:
            print(issue(github, report, args.key, args.drift))
    except urllib.error.HTTPError as exc:
        print(f"::error::GitHub API {exc.code} {exc.reason} while publishing the report", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
