"""Publishes a syncer Markdown report on GitHub, for the composite action (stdlib only).

    python github_report.py comment REPORT [--key KEY]
        one sticky comment on the pull request of the pull_request event
    python github_report.py comment REPORT --merged-commit SHA [--key KEY]
        one sticky comment on the pull request merged as commit SHA (apply, on push to main);
        none found: nothing is sent (the report is in the step summary)
    python github_report.py issue REPORT --drift true|false|unknown [--key KEY]
        one drift issue: opened or updated while there is drift, closed once in sync; unknown
        (the drift check failed) neither opens nor closes, but puts the failure in the open issue

The comment or issue is found again by a hidden marker (the report's first line, plus KEY when
several jobs publish side by side). Each body links the workflow run that made it.
Environment: GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_API_URL, GITHUB_SERVER_URL, GITHUB_RUN_ID,
and for the event's pull request GITHUB_EVENT_PATH (the pull_request event).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

KEY = re.compile(r"[A-Za-z0-9._/-]{1,100}")  # a key goes inside an HTML comment: nothing that ends it
SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")  # it goes into a request path
# the parts of the run's link, from the runner; checked anyway, as they land in Markdown
SERVER = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]+)?(/[A-Za-z0-9._~-]+)*")
REPOSITORY = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
RUN_ID = re.compile(r"[0-9]{1,20}")


class Refused(Exception):
    """An input the script will not send to GitHub."""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an error: following it would send the token to wherever it points."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


class GitHub:
    def __init__(self, api: str, repository: str, token: str, author: str = "") -> None:
        self.base = f"{api.rstrip('/')}/repos/{repository}"
        self.token = token
        self.author = author  # the login that writes the reports, if not a bot (a personal token)

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
        with _OPENER.open(request, timeout=30) as response:
            text = response.read()
        return json.loads(text) if text else None

    def _ours(self, item: Mapping[str, Any], marker: str) -> bool:
        """A report this action wrote: the marker is its first line (text from Losant inside a
        report can never be), and a bot (or the configured author) wrote it, so nobody else's
        comment is taken over."""
        first_line = str(item.get("body") or "").split("\n", 1)[0]
        user = item.get("user")
        user = user if isinstance(user, dict) else {}
        by_us = user.get("type") == "Bot" or (bool(self.author) and user.get("login") == self.author)
        return first_line == marker and by_us

    def find(self, path: str, marker: str) -> dict[str, Any] | None:
        page = 1
        while True:
            items = self.call("GET", f"{path}{'&' if '?' in path else '?'}per_page=100&page={page}")
            for item in items:
                if self._ours(item, marker):
                    return dict(item)
            if len(items) < 100:
                return None
            page += 1


def run_url(env: Mapping[str, str]) -> str:
    """The link to this workflow run, or "" when the runner's variables do not make one."""
    server = env.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
    repository, run_id = env.get("GITHUB_REPOSITORY", ""), env.get("GITHUB_RUN_ID", "")
    if SERVER.fullmatch(server) and REPOSITORY.fullmatch(repository) and RUN_ID.fullmatch(run_id):
        return f"{server}/{repository}/actions/runs/{run_id}"
    return ""


def _footer(text: str, url: str) -> str:
    """`text` with the run linked, as the last line of a body."""
    return f"\n\n---\n_{text} [workflow run]({url})._\n" if url else ""


def _marked(report: str, key: str) -> tuple[str, str]:
    """The report with its marker made unique to `key`, and that marker."""
    first, _, rest = report.partition("\n")
    marker = first.replace(" -->", f":{key} -->") if key and first.startswith("<!--") else first
    return marker, f"{marker}\n{rest}"


def merged_pull_request(github: GitHub, sha: str) -> int | None:
    """The pull request merged as commit `sha`: the one whose merge commit it is, else the only
    merged one that holds it; None when there is none, or no telling which."""
    if not SHA.fullmatch(sha):
        raise Refused("--merged-commit must be a full commit SHA (40 or 64 hex digits)")
    merged = [p for p in github.call("GET", f"/commits/{sha}/pulls") if p.get("merged_at")]
    exact = [p for p in merged if p.get("merge_commit_sha") == sha]
    chosen = exact or (merged if len(merged) == 1 else [])
    return int(chosen[0]["number"]) if chosen else None


def comment(github: GitHub, report: str, key: str, number: int, url: str) -> str:
    marker, body = _marked(report, key)
    body += _footer("From", url)
    existing = github.find(f"/issues/{number}/comments", marker)
    if existing:
        github.call("PATCH", f"/issues/comments/{int(existing['id'])}", {"body": body})
        return f"updated comment {int(existing['id'])} on pull request #{number}"
    created = github.call("POST", f"/issues/{number}/comments", {"body": body})
    return f"created comment {int(created['id'])} on pull request #{number}"


def issue(github: GitHub, report: str, key: str, drift: str, url: str) -> str:
    """`drift` is syncer's own has_drift output, never read from the report: the report carries
    names from Losant, which could say anything."""
    marker, body = _marked(report, key)
    existing = github.find("/issues?state=open&labels=syncer-drift", marker)
    number = int(existing["number"]) if existing else None
    if drift == "unknown":  # the check failed: it proves neither drift nor sync
        if number is None:
            return "drift unknown (syncer failed): no drift issue open, none opened"
        failed = body + _footer("The drift check failed in this", url)
        github.call("PATCH", f"/issues/{number}", {"body": failed})
        return f"drift unknown (syncer failed): issue #{number} left open, its report is the failure"
    if drift == "false":
        if number is None:
            return "in sync, no drift issue open"
        again = "Live state matches the files again." + _footer("Checked by this", url)
        github.call("POST", f"/issues/{number}/comments", {"body": again})
        github.call("PATCH", f"/issues/{number}", {"state": "closed", "state_reason": "completed"})
        return f"closed issue #{number}"
    body += _footer("Found by this", url)
    title = "Losant integrations drifted from git" + (f" ({key})" if key else "")
    if number is not None:
        github.call("PATCH", f"/issues/{number}", {"body": body, "title": title})
        return f"updated issue #{number}"
    created = github.call("POST", "/issues", {"title": title, "body": body, "labels": ["syncer-drift"]})
    return f"opened issue #{int(created['number'])}"


def _escape(text: str) -> str:
    """Text for a workflow command's message: no line of it can start another command."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("mode", choices=["comment", "issue"])
    parser.add_argument("report")
    parser.add_argument("--key", default="")
    parser.add_argument(
        "--drift", choices=["true", "false", "unknown"], help="issue: syncer's has_drift output"
    )
    parser.add_argument("--merged-commit", default="", help="comment: on the pull request merged as this")
    args = parser.parse_args(argv)
    if args.key and not KEY.fullmatch(args.key):
        print("::error::report-key may hold letters, digits and . _ / - only (at most 100)", file=sys.stderr)
        return 1
    if args.mode == "issue" and args.drift is None:
        print("::error::issue needs --drift true|false|unknown (syncer's has_drift output)", file=sys.stderr)
        return 1
    with open(args.report, encoding="utf-8") as handle:
        report = handle.read()
    env = os.environ
    api = env.get("GITHUB_API_URL", "https://api.github.com")
    github = GitHub(api, env["GITHUB_REPOSITORY"], env["GITHUB_TOKEN"], env.get("REPORT_AUTHOR", ""))
    url = run_url(env)
    try:
        if args.mode == "issue":
            print(issue(github, report, args.key, args.drift, url))
        elif args.merged_commit:
            number = merged_pull_request(github, args.merged_commit)
            if number is None:
                sha = args.merged_commit
                print(f"no pull request was merged as {sha}: the report is in the step summary only")
            else:
                print(comment(github, report, args.key, number, url))
        else:
            with open(env["GITHUB_EVENT_PATH"], encoding="utf-8") as handle:
                number = int(json.load(handle)["pull_request"]["number"])
            print(comment(github, report, args.key, number, url))
    except Refused as exc:
        print(f"::error::{exc}", file=sys.stderr)
        return 1
    except urllib.error.HTTPError as exc:
        reason = _escape(str(exc.reason))
        print(f"::error::GitHub API {exc.code} {reason} while publishing the report", file=sys.stderr)
        return 1
    except urllib.error.URLError as exc:
        print(f"::error::cannot reach the GitHub API ({_escape(str(exc.reason))})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
