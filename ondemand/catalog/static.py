"""Static STAC collections: one ``collection.json`` with linked items, on disk or over HTTP(S).

The whole collection is read once at start (a static catalog has no search), its
items indexed in memory. Asset hrefs may be relative (resolved against each item)
or absolute URLs; relative hrefs of a catalog served over HTTP become URLs.
"""

from __future__ import annotations

import json
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

import pystac
from pystac.stac_io import DefaultStacIO
from rasterio.errors import RasterioError

from ..errors import CatalogInvalid, InvalidCRS
from ..text import file_label, without_paths
from .build import Signer, build_bands, build_item, first_assets_of
from .model import Collection
from .stac_fields import collection_band_meta, public_stac, usable_items

HTTP_TIMEOUT_SECONDS = 30.0
"""How long one request for a catalog file over HTTP may take."""


class StacIO(DefaultStacIO):
    """pystac I/O that parses JSON with the standard library (accepts ``NaN`` nodata) and
    bounds HTTP requests with a time-out."""

    def __init__(self, timeout: float = HTTP_TIMEOUT_SECONDS) -> None:
        super().__init__()
        self.timeout = timeout

    def json_loads(self, txt: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """Parse JSON text (orjson, pystac's default when installed, rejects NaN)."""
        result: dict[str, Any] = json.loads(txt)
        return result

    def read_text_from_href(self, href: str) -> str:
        """Read a local file, or a URL within the time-out."""
        if not href.startswith(("http://", "https://")):
            return super().read_text_from_href(href)
        request = urllib.request.Request(href, headers=self.headers)
        with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
            text: str = response.read().decode("utf-8")
            return text


def is_url(location: str | Path) -> bool:
    """Whether a catalog location is an HTTP(S) URL rather than a local path."""
    return str(location).startswith(("http://", "https://"))


def load_collection(
    location: Path | str, *, sign: Signer | None = None, timeout: float = HTTP_TIMEOUT_SECONDS
) -> Collection:
    """Load one static STAC collection (a path or an HTTP(S) URL); any defect raises
    :class:`CatalogInvalid`."""
    if is_url(location):
        where = str(location)
    else:
        path = Path(location).absolute()
        if not path.is_file():
            raise CatalogInvalid(f"STAC collection file {file_label(path)} does not exist")
        where = str(path)
    io = StacIO(timeout)
    try:
        stac_coll = pystac.Collection.from_file(where, stac_io=io)
        stac_items = list(stac_coll.get_items())
        raw = io.json_loads(io.read_text_from_href(where))
    except CatalogInvalid:
        raise
    except Exception as exc:  # pystac/json/urllib raise many types for a broken catalog
        raise CatalogInvalid(f"Cannot read STAC collection {file_label(where)}: "
                             f"{without_paths(str(exc), where)}") from None
    if not stac_items:
        raise CatalogInvalid(f"STAC collection {file_label(where)} has no items")
    try:
        return _build_collection(where, stac_coll, stac_items, raw, sign)
    except CatalogInvalid:
        raise
    except (KeyError, TypeError, ValueError, RasterioError, InvalidCRS) as exc:
        raise CatalogInvalid(f"Invalid STAC collection {file_label(where)}: "
                             f"{without_paths(str(exc), where)}") from None


def _build_collection(
    where: str,
    coll: pystac.Collection,
    stac_items: list[pystac.Item],
    raw: dict[str, Any],
    sign: Signer | None,
) -> Collection:
    """Turn pystac objects into a :class:`Collection` holding all its items."""
    summaries = coll.summaries.to_dict() if coll.summaries is not None else {}
    band_meta = collection_band_meta(summaries, coll.extra_fields.get("item_assets") or {})
    stac_items = usable_items(stac_items, coll.id, where)
    label = file_label(where)
    items = sorted((build_item(it, label, sign) for it in stac_items), key=lambda i: i.datetime)
    first = first_assets_of(items, {it.id: it for it in stac_items})
    bands, resolution = build_bands(band_meta, first, label, items[0].properties.get("platform"))
    crs = Counter(i.crs for i in items).most_common(1)[0][0]
    bbox = (
        min(i.bbox[0] for i in items),
        min(i.bbox[1] for i in items),
        max(i.bbox[2] for i in items),
        max(i.bbox[3] for i in items),
    )
    return Collection(
        id=coll.id,
        title=coll.title or coll.id,
        description=coll.description or "",
        source=providers_text(raw),
        license=coll.license or "",
        bands=bands,
        items=tuple(items),
        crs=crs,
        resolution=resolution,
        bbox=bbox,
        interval=(items[0].datetime, items[-1].datetime),
        aliases=tuple(str(a) for a in raw.get("ondemand:aliases", ())),
        stac=public_stac(raw),
    )


def providers_text(raw: dict[str, Any]) -> str:
    """The names of a collection's providers, comma-separated."""
    providers = raw.get("providers") or []
    return ", ".join(str(p.get("name", "")) for p in providers if p.get("name"))
