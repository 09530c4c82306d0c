"""Signed service URLs: HMAC over service, owner and expiry, the key shared through the
store's database (SQLite and PostgreSQL), so one server verifies what another signed."""

from __future__ import annotations

import hashlib
import hmac

from ondemand.signing import UrlSigner
from ondemand.store import Database

NOW = 1_800_000_000.0


def test_a_signature_is_the_hmac_of_service_owner_and_expiry(database: Database) -> None:
    signer = UrlSigner(database, 900)
    signature = signer.sign("svc1", "alice", now=NOW)
    assert signature.exp == int(NOW) + 900
    with database.transaction() as tx:
        row = tx.one("SELECT secret FROM signing_keys WHERE name = 'service-urls'")
    assert row is not None and len(row["secret"]) == 64
    expected = hmac.new(bytes.fromhex(row["secret"]), f"svc1\nalice\n{signature.exp}".encode(),
                        hashlib.sha256).hexdigest()
    assert signature.sig == expected
    assert signature.query() == f"exp={signature.exp}&sig={expected}"


def test_another_server_on_the_same_database_verifies_it(database: Database) -> None:
    signature = UrlSigner(database, 900).sign("svc1", "alice", now=NOW)
    other = UrlSigner(database, 900)  # a second server: reads the same key
    assert other.verify("svc1", "alice", str(signature.exp), signature.sig, now=NOW + 899)


def test_expired_tampered_or_foreign_signatures_fail(database: Database) -> None:
    signer = UrlSigner(database, 900)
    good = signer.sign("svc1", "alice", now=NOW)
    exp, sig = str(good.exp), good.sig
    assert signer.verify("svc1", "alice", exp, sig, now=NOW)
    assert not signer.verify("svc1", "alice", exp, sig, now=NOW + 901)  # expired
    assert not signer.verify("svc1", "alice", str(good.exp + 3600), sig, now=NOW)  # longer life
    assert not signer.verify("svc2", "alice", exp, sig, now=NOW)  # another service
    assert not signer.verify("svc1", "bob", exp, sig, now=NOW)  # another owner
    flipped = sig[:-1] + ("1" if sig[-1] == "0" else "0")
    assert not signer.verify("svc1", "alice", exp, flipped, now=NOW)
    assert not signer.verify("svc1", "alice", "1e99", sig, now=NOW)
