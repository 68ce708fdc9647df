"""Render stage: a plan (or a drift report) as text for people, JSON for tools, Markdown for PRs."""
