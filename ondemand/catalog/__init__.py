"""Collections and items: static STAC catalogs (local or over HTTP) and STAC API searches.

A :class:`Collection` carries its bands, native grid, extent and dates, and finds its
items per window through an item source: an in-memory index of a static catalog
(``static``), or a cached item search of a STAC API (``api``). ``stac_fields`` reads
facts from STAC JSON, ``build`` turns STAC items into the model, ``item_index`` finds
items by bounds and dates; :func:`open_catalog` builds the server's catalog from its
settings.
"""

from __future__ import annotations

from .catalog import Catalog, load_signer, open_catalog
from .model import Asset, Band, Collection, Item, ItemSource
from .static import load_collection

__all__ = [
    "Asset",
    "Band",
    "Catalog",
    "Collection",
    "Item",
    "ItemSource",
    "load_collection",
    "load_signer",
    "open_catalog",
]
