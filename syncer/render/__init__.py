"""Render stage: a plan (or a drift report) as text for people, JSON for tools, Markdown for PRs
(syncer.render.formats chooses among them)."""
