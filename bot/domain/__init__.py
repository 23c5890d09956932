"""The bottom layer: the types, states and errors every other layer shares.

It imports nothing else of tunebot, so any layer may depend on it and it on none.
"""
