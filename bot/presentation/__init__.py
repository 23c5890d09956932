"""Everything tunebot shows in Slack: messages (mrkdwn), Block Kit, the App Home view, modals.

Pure functions from results, errors and records to text and blocks; no Slack calls and no
database. All text that came from people, files, models or services goes through
`text.escape_mrkdwn` (or `escape_truncated`), so it can neither ping anyone nor break the
formatting.
"""
