"""How a Vertex AI request path maps to a handler.

After `/{version}/projects/{p}/locations/{l}/`, a path alternates collection names and resource
ids, optionally ending in `:verb`. Its *pattern* keeps the collection names and writes each id
as `*`: `tuningJobs/123:cancel` -> `tuningJobs/*:cancel`,
`tensorboards/1/experiments/e/runs` -> `tensorboards/*/experiments/*/runs`. Each resource
module's `ROUTES` maps (HTTP method, pattern) to (method kind, handler).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from standins.emulator.vertex.service import VertexService

VERSIONS = ("v1", "v1beta1")


@dataclass(frozen=True)
class VertexCall:
    """One routed request: its API version, the location (`parent`), the ids in its path."""

    version: str
    method: str
    parent: str
    ids: tuple[str, ...]
    verb: str | None = None
    query: Mapping[str, str] = field(default_factory=dict)
    body: dict[str, Any] = field(default_factory=dict)

    @property
    def resource_id(self) -> str:
        return self.ids[-1]


Handler = Callable[[VertexService, VertexCall], dict[str, Any]]
Routes = dict[tuple[str, str], tuple[str, Handler]]


def split_path(path: str) -> tuple[str, str, tuple[str, ...], str | None] | None:
    """`projects/p/locations/l/rest...` -> (parent, pattern, ids, verb); None if not that shape."""
    parts = path.strip("/").split("/")
    if len(parts) < 5 or parts[0] != "projects" or parts[2] != "locations":
        return None
    parent = "/".join(parts[:4])
    rest = parts[4:]
    last, _, verb = rest[-1].partition(":")
    rest[-1] = last
    if not all(rest):
        return None
    names = [segment if index % 2 == 0 else "*" for index, segment in enumerate(rest)]
    ids = tuple(rest[1::2])
    pattern = "/".join(names) + (f":{verb}" if verb else "")
    return parent, pattern, ids, verb or None
