"""Scheduled polling of tuning jobs: progress edits, end-of-job notices, leases."""
