"""The ``ondemand`` command: ``ondemand serve`` runs the server."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ondemand.errors import OnDemandError
from ondemand.healing import check_job_store
from ondemand.settings import Settings, parse_gdal_config
from ondemand.store import sqlite_file

from .connection import TimedH11Protocol
from .public_url import parse_networks, parse_public_url


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
        action="append",
        default=None,
        help="a static STAC collection.json to serve, a local path or an http(s):// URL; "
        "repeatable",
    )
    add_remote_arguments(serve)
    serve.add_argument(
        "--demo", action="store_true", help="serve the built-in demo catalog beside --catalog"
    )
    serve.add_argument(
        "--users", type=Path, default=None, help="users file (ondemand users add); enables login"
    )
    serve.add_argument(
        "--insecure",
        action="store_true",
        help="allow binding to a non-loopback address without a users file",
    )
    serve.add_argument(
        "--allow-registration",
        action="store_true",
        help="let anyone create an account in the users file with POST /auth/register",
    )
    serve.add_argument(
        "--dask-scheduler",
        default=None,
        metavar="tcp://HOST:PORT",
        help="run batch jobs on this existing Dask scheduler (default: a local cluster; "
        "env ONDEMAND_DASK_SCHEDULER)",
    )
    serve.add_argument(
        "--store",
        default=None,
        metavar="postgresql://USER@HOST/DB",
        help="keep jobs, services, tokens and the batch queue in this PostgreSQL database, "
        "shared by several servers (default: DATA_DIR/jobs.sqlite; env ONDEMAND_STORE)",
    )
    serve.add_argument(
        "--results",
        default=None,
        metavar="FOLDER|s3://BUCKET/PREFIX",
        help="where batch results live: a (shared) folder or an S3-compatible bucket "
        "(default: DATA_DIR/results; env ONDEMAND_RESULTS)",
    )
    serve.add_argument(
        "--files-dir",
        default=None,
        metavar="FOLDER|s3://BUCKET/PREFIX",
        help="where users' uploaded files live: a folder shared by several servers or an "
        "S3-compatible bucket s3://BUCKET/PREFIX[?endpoint_url=URL] "
        "(default: DATA_DIR/files; env ONDEMAND_FILES_DIR)",
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="server processes sharing the port, the job store and the cache (default 1)",
    )
    serve.add_argument(
        "--public-url",
        default=None,
        metavar="URL",
        help="the URL clients reach the server at (behind a proxy: https://maps.example.org); "
        "service URLs and capabilities use it instead of the Host header",
    )
    serve.add_argument(
        "--trusted-proxy",
        action="append",
        default=None,
        metavar="ADDRESS",
        help="a reverse proxy (IP address or network) whose X-Forwarded-For/-Proto/-Host "
        "headers are believed; repeatable (default: none, the headers are ignored)",
    )
    serve.add_argument(
        "--cors-origin",
        action="append",
        default=None,
        metavar="ORIGIN",
        help="let web pages from ORIGIN (https://host:port) call the API with credentials; "
        "repeatable; '*' (with --users) lets any origin call without credentials",
    )
    serve.add_argument("--log-level", default="info", help="uvicorn log level")

    users = commands.add_parser("users", help="manage user accounts")
    user_commands = users.add_subparsers(dest="users_command", required=True)
    for name, text in (
        ("add", "add a user or set a password (read from stdin)"),
        ("remove", "remove a user"),
        ("list", "list users"),
    ):
        sub = user_commands.add_parser(name, help=text)
        sub.add_argument("--file", type=Path, required=True, help="the users file")
        if name != "list":
            sub.add_argument("name", help="user name (the user_id)")
    return parser


def is_loopback(host: str) -> bool:
    """Whether ``host`` binds only the local machine."""
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def exposure_problem(settings: Settings) -> str | None:
    """Why the settings must not start (an open server without accounts), or None."""
    if settings.users_file is None and not settings.insecure and not is_loopback(settings.host):
        return (
            f"Refusing to bind {settings.host} without user accounts: anyone who can reach it "
            "could run jobs and read results. Create users (ondemand users add --file users.json "
            "NAME) and pass --users users.json, bind 127.0.0.1, or pass --insecure."
        )
    return None


def manage_users(args: argparse.Namespace) -> int:
    """``ondemand users add|remove|list``."""
    from ondemand.accounts import AccountFile

    accounts = AccountFile(args.file)
    try:
        if args.users_command == "list":
            for name in sorted(accounts.load()):
                print(name)
        elif args.users_command == "add":
            password = sys.stdin.readline().rstrip("\n")
            accounts.add(args.name, password)
            print(f"user {args.name} saved in {args.file}")
        else:
            accounts.remove(args.name)
            print(f"user {args.name} removed from {args.file}")
    except OnDemandError as exc:
        print(f"ondemand users: {exc.message}", file=sys.stderr)
        return 2
    return 0


def add_remote_arguments(serve: argparse.ArgumentParser) -> None:
    """Flags of STAC APIs and remote assets (docs/stac-api.md)."""
    serve.add_argument("--stac-api", action="append", default=None, metavar="URL",
                       help="serve the collections of this STAC API; repeatable")
    serve.add_argument("--stac-collection", action="append", default=None, metavar="ID",
                       help="serve only this collection of the STAC APIs; repeatable")
    serve.add_argument("--sign-hrefs", default=None, metavar="MODULE:FUNCTION",
                       help="function signing remote asset hrefs, e.g. planetary_computer:sign")
    serve.add_argument("--aws-no-sign-request", action="store_true",
                       help="read s3:// assets of public buckets without credentials")
    serve.add_argument("--gdal", action="append", default=None, metavar="KEY=VALUE",
                       help="a GDAL configuration option for remote reads; repeatable")


def remote_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """Settings of the remote-catalog flags (None where not given)."""
    catalogs = args.catalog or []
    urls = [c for c in catalogs if is_url(c)]
    return {
        "catalogs": tuple(Path(c) for c in catalogs if not is_url(c)) or None,
        "catalog_urls": tuple(urls) or None,
        "stac_apis": tuple(args.stac_api) if args.stac_api else None,
        "stac_collections": tuple(args.stac_collection) if args.stac_collection else None,
        "sign_hrefs": args.sign_hrefs,
        "aws_no_sign_request": args.aws_no_sign_request or None,
        "gdal_config": parse_gdal_config(args.gdal) if args.gdal else None,
    }


def is_url(location: str) -> bool:
    """Whether a ``--catalog`` value is an HTTP(S) URL."""
    return location.startswith(("http://", "https://"))


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Environment first, then command-line flags."""
    return Settings.from_env(
        data_dir=args.data_dir,
        **remote_overrides(args),
        demo=args.demo or None,
        host=args.host,
        port=args.port,
        users_file=args.users,
        insecure=args.insecure or None,
        allow_registration=args.allow_registration or None,
        dask_scheduler=args.dask_scheduler,
        store=args.store,
        results=args.results,
        files_dir=args.files_dir,
        cors_origins=tuple(args.cors_origin) if args.cors_origin else None,
        public_url=args.public_url,
        trusted_proxies=tuple(args.trusted_proxy) if args.trusted_proxy else None,
    )


KEEP_ALIVE_SECONDS = 5
"""Idle keep-alive connections are closed after this long."""
MAX_INCOMPLETE_EVENT_BYTES = 64 * 1024
"""Request line plus headers larger than this are refused (400) instead of buffered."""
WORKER_HEALTHCHECK_SECONDS = 30
"""With ``--workers N``, a worker process that does not answer uvicorn's supervisor for
this long is killed and replaced. uvicorn's 5 s killed workers still importing the
application, or busy, on a loaded machine (nine restarts before two workers came up in
one load-benchmark start with a load average of 12 on 2 cores)."""


def uvicorn_options(settings: Settings, log_level: str) -> dict[str, Any]:
    """The uvicorn options ``ondemand serve`` runs with (explicit connection limits).

    The server is asynchronous: a client trickling its headers or body holds only its
    own connection, never a worker thread or the event loop, and not for long: the h11
    protocol with read time-outs (:mod:`services.connection`) closes it. uvicorn's own
    proxy-header handling is off: :mod:`services.public_url` believes forwarded headers
    from ``--trusted-proxy`` addresses only.
    """
    return {
        "host": settings.host,
        "port": settings.port,
        "log_level": log_level,
        "http": TimedH11Protocol,
        "timeout_keep_alive": KEEP_ALIVE_SECONDS,
        "h11_max_incomplete_event_size": MAX_INCOMPLETE_EVENT_BYTES,
        "timeout_worker_healthcheck": WORKER_HEALTHCHECK_SECONDS,
        "proxy_headers": False,
    }


def uvicorn_config(app: Any, settings: Settings, log_level: str) -> Any:
    """The uvicorn configuration of one server process serving ``app``."""
    import uvicorn

    return uvicorn.Config(app, **uvicorn_options(settings, log_level))


def serve(settings: Settings, log_level: str, workers: int = 1) -> None:
    """Run uvicorn with the application, printing the URLs to open.

    With several ``workers`` each process builds the app from the settings passed in
    ``ONDEMAND_*`` variables; they share the data dir (SQLite job store in WAL mode,
    disk cache, batch queue with one leader).
    """
    import uvicorn

    from .app import create_app

    base = f"http://{settings.host}:{settings.port}"
    print(f"ondemand serving on {base}/", flush=True)
    print(f"  collections: {base}/data    processes: {base}/processes", flush=True)
    print(f"  docs: {base}/ (API root)", flush=True)
    if workers > 1:
        os.environ.update(settings.to_env())
        uvicorn.run(
            "services.app:app_from_env",
            factory=True,
            workers=workers,
            **uvicorn_options(settings, log_level),
        )
        return
    uvicorn.Server(uvicorn_config(create_app(settings), settings, log_level)).run()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    args = build_parser().parse_args(argv)
    if args.command == "users":
        return manage_users(args)
    try:
        settings = settings_from_args(args)
    except ValueError as exc:
        print(f"ondemand: {exc}", file=sys.stderr)
        return 2
    problem = exposure_problem(settings)
    if problem:
        print(f"ondemand: {problem}", file=sys.stderr)
        return 2
    if args.workers < 1:
        print("ondemand: --workers must be at least 1", file=sys.stderr)
        return 2
    try:
        if settings.public_url:
            parse_public_url(settings.public_url)
        parse_networks(settings.trusted_proxies)
        store_file = sqlite_file(settings.store, settings.data_dir)
        if store_file is not None:
            check_job_store(store_file)
        serve(settings, args.log_level, args.workers)
    except OnDemandError as exc:
        print(f"ondemand: {exc.message}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
