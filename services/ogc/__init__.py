"""OGC web services: shared KVP and exception helpers (:mod:`.common`), WMTS and WCS."""
