"""Slack I/O adapters: the Bolt app, request context, front door, retries, dedupe, reporter, files."""
