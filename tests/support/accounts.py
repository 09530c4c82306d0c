"""Two users, alice and bob, on the demo catalog: the set-up of owner-only tests."""

from __future__ import annotations

from pathlib import Path

from ondemand.accounts import AccountFile
from ondemand.demo import ensure_demo_catalog
from ondemand.settings import Settings

ALICE, BOB = ("alice", "alice-password"), ("bob", "bob-password")
"""(name, password) of the two users, for httpx's ``auth``."""


def two_user_settings(data_dir: Path, demo_data_dir: Path) -> Settings:
    """Settings of a server on the demo catalog whose users file holds alice and bob."""
    accounts = AccountFile(data_dir / "users.json")
    accounts.add(*ALICE)
    accounts.add(*BOB)
    return Settings(
        data_dir=data_dir,
        catalogs=tuple(ensure_demo_catalog(demo_data_dir)),
        users_file=data_dir / "users.json",
    )
