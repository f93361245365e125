"""GeoJSON targets: comparing them, and whether a client geofence contains one.

Targets are GeoJSON Points (POI tasks) or Polygons (AOI tasks) with [lon, lat(, alt)]
positions. The service echoes positions with an altitude of 0.0 appended, so comparisons
look at longitude and latitude only.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

Position = tuple[float, float]
TOLERANCE = 1e-9  # degrees; the API echoes floats, not strings


def positions(target: Mapping[str, Any]) -> list[Position]:
    """Every (lon, lat) of a Point or of a Polygon's rings, in order."""
    coords = target.get("coordinates") or []
    if target.get("type") == "Point":
        return [(float(coords[0]), float(coords[1]))]
    return [(float(p[0]), float(p[1])) for ring in coords for p in ring]


def same_target(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """True when two targets are the same geometry, ignoring echoed altitudes."""
    if not isinstance(a, Mapping) or not isinstance(b, Mapping) or a.get("type") != b.get("type"):
        return False
    try:
        pa, pb = positions(a), positions(b)
    except (TypeError, ValueError, IndexError):
        return False
    return len(pa) == len(pb) and all(
        abs(x1 - x2) <= TOLERANCE and abs(y1 - y2) <= TOLERANCE for (x1, y1), (x2, y2) in zip(pa, pb, strict=True)
    )


def _in_ring(point: Position, ring: list[Position]) -> bool:
    """Ray casting: is ``point`` inside the closed ``ring`` (boundary counts as inside)."""
    x, y = point
    inside = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True):
        if min(y1, y2) <= y <= max(y1, y2) and min(x1, x2) <= x <= max(x1, x2):
            cross = (x2 - x1) * (y - y1) - (y2 - y1) * (x - x1)
            if abs(cross) <= TOLERANCE:
                return True  # on an edge
        if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
            inside = not inside
    return inside


def _polygons(geometry: Mapping[str, Any]) -> Iterable[list[list[Position]]]:
    kind = geometry.get("type")
    coords = geometry.get("coordinates") or []
    polys = [coords] if kind == "Polygon" else coords if kind == "MultiPolygon" else []
    for poly in polys:
        yield [[(float(p[0]), float(p[1])) for p in ring] for ring in poly]


def contains(geofence: Mapping[str, Any], target: Mapping[str, Any]) -> bool:
    """True when every position of ``target`` lies in the (Multi)Polygon ``geofence``.

    Checking the vertices is exact for convex geofences and a close approximation
    otherwise; the service has the last word at create time.
    """
    polygons = list(_polygons(geofence))
    if not polygons:
        return True  # a geofence we cannot read is left to the service
    return all(
        any(_in_ring(p, poly[0]) and not any(_in_ring(p, hole) for hole in poly[1:]) for poly in polygons)
        for p in positions(target)
    )


def area_km2(target: Mapping[str, Any]) -> float:
    """The approximate area of a Polygon's outer ring (equirectangular; fine for task sizes)."""
    if target.get("type") != "Polygon":
        return 0.0
    ring = [(float(p[0]), float(p[1])) for p in target["coordinates"][0]]
    lat0 = math.radians(sum(p[1] for p in ring) / len(ring))
    k = 111.32  # km per degree of latitude
    pts = [(x * k * math.cos(lat0), y * k) for x, y in ring]
    return abs(sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(pts, pts[1:] + pts[:1], strict=True))) / 2
