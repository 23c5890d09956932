"""The Vertex AI surface (aiplatform.googleapis.com): supervised tuningJobs, the endpoints and
models they create, and operations.

One module per resource (`tuning`, `endpoints`, `models`, `operations`); each exposes `ROUTES`
(its paths and handlers) and `standins.emulator.vertex.http.MODULES` lists them. A new resource
(say `tensorboard.py`) is a new module with its own `ROUTES`, added to `MODULES`.
"""
