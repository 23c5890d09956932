"""`tunebot demo`: the real bot, a stand-in Slack workspace and the tuning-API emulator,
driven from a terminal (interactively or from a script of lines).

`render` turns Slack messages into terminal text (pure functions); `terminal` runs the
session: it types what a user would type in Slack and prints what Slack would show.
"""
