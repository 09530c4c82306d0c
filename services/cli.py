"""The ``ondemand`` command: ``ondemand serve`` runs the server."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from ondemand.settings import Settings


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = argparse.ArgumentParser(prog="ondemand", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the HTTP server")
    serve.add_argument("--host", default=None, help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="port (default 8000)")
    serve.add_argument(
        "--data-dir", type=Path, default=None, help="where demo data, cache and jobs live (./data)"
    )
    serve.add_argument(
        "--catalog",
        type=Path,
        action="append",
        default=None,
        help="a static STAC collection.json to serve; repeatable",
    )
    serve.add_argument(
        "--demo", action="store_true", help="serve the built-in demo catalog beside --catalog"
    )
    serve.add_argument("--log-level", default="info", help="uvicorn log level")
    return parser


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Environment first, then command-line flags."""
    return Settings.from_env(
        data_dir=args.data_dir,
        catalogs=tuple(args.catalog) if args.catalog else None,
        demo=args.demo or None,
        host=args.host,
        port=args.port,
    )


def serve(settings: Settings, log_level: str) -> None:
    """Run uvicorn with the application, printing the URLs to open."""
    import uvicorn

    from .app import create_app

    app = create_app(settings)
    base = f"http://{settings.host}:{settings.port}"
    print(f"ondemand serving on {base}/", flush=True)
    print(f"  collections: {base}/data    processes: {base}/processes", flush=True)
    print(f"  docs: {base}/ (API root)", flush=True)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=log_level)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        serve(settings_from_args(args), args.log_level)
    return 0


if __name__ == "__main__":
    sys.exit(main())
