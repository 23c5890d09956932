"""Faithful stand-ins for what tunebot cannot reach from a developer's machine.

Nothing in `bot` imports this package: the tuning-API emulator (`tunebot emulator`), the
fake Slack workspace, the terminal demo (`tunebot demo`) and the offline mode that wires
them to the real bot. The CLI loads them lazily, only for those commands.
"""
