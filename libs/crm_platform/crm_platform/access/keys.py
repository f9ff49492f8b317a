"""Where the caller-context keys come from.

Production: the gateway gets its Ed25519 private key from `CRM_CALLER_SIGNING_KEY` (PEM, a secret) and
its id from `CRM_CALLER_SIGNING_KID`; services get every public key they accept from
`CRM_CALLER_PUBLIC_KEYS` (`kid=<PEM>` entries separated by `;;`, or a directory path). Rotation: add the new
public key to the services, then switch the gateway's signing key, then drop the old public key.

Local runs (`make run`, tests): with neither variable set, the first process that needs a key creates one
pair under `<CRM_DATA_DIR>/keys/` (`caller-context.pem` mode 0600, `caller-context.<kid>.pub.pem`); a
service that starts before the gateway finds the public key when the first call arrives, because an
unknown kid makes it look in the directory again (at most once a second).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
)

from crm_platform import config

SIGNING_KEY = config.Setting(
    "CRM_CALLER_SIGNING_KEY",
    config.as_str,
    default="",
    help="gateway only: Ed25519 private key (PEM) that signs the caller context sent to services; "
    "empty: a local key pair under CRM_DATA_DIR/keys",
    secret=True,
)
SIGNING_KID = config.Setting(
    "CRM_CALLER_SIGNING_KID", config.as_str, default="", help="gateway only: the id of CRM_CALLER_SIGNING_KEY"
)
PUBLIC_KEYS = config.Setting(
    "CRM_CALLER_PUBLIC_KEYS",
    config.as_str,
    default="",
    help="services: the caller-context public keys they accept, `kid=<PEM>` separated by `;;`, or a "
    "directory of `caller-context.<kid>.pub.pem` files; empty: CRM_DATA_DIR/keys",
)

_PRIVATE_FILE = "caller-context.pem"
_PUBLIC_SUFFIX = ".pub.pem"
_PUBLIC_PREFIX = "caller-context."
_lock = threading.Lock()


def keys_dir() -> Path:
    return config.DATA_DIR.get() / "keys"


def signing_key() -> tuple[bytes, str]:
    """(private key PEM, kid) for the gateway."""
    pem, kid = SIGNING_KEY.get(), SIGNING_KID.get()
    if pem:
        if not kid:
            raise config.ConfigError("CRM_CALLER_SIGNING_KID is required with CRM_CALLER_SIGNING_KEY")
        return pem.encode(), kid
    return _local_pair(keys_dir())


def _local_pair(directory: Path) -> tuple[bytes, str]:
    with _lock:
        directory.mkdir(parents=True, exist_ok=True)
        private_path = directory / _PRIVATE_FILE
        if not private_path.exists():
            key = Ed25519PrivateKey.generate()
            pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
            # Written whole under a name of its own, then linked into place: link() fails if the file
            # exists, so two processes starting together never each keep a different key, and no one
            # ever reads a key file half written (an O_EXCL create is visible, empty, before its write:
            # a gateway worker starting beside another failed to load it).
            tmp = directory / f".{_PRIVATE_FILE}.{os.getpid()}.{threading.get_ident()}"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(pem)
            try:
                with contextlib.suppress(FileExistsError):
                    os.link(tmp, private_path)
            finally:
                tmp.unlink()
        pem = private_path.read_bytes()
        kid = "local-" + _fingerprint(pem)
        public_path = directory / f"{_PUBLIC_PREFIX}{kid}{_PUBLIC_SUFFIX}"
        if not public_path.exists():
            public = load_pem_private_key(pem, None).public_key()
            tmp = public_path.with_suffix(".tmp")
            tmp.write_bytes(public.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
            tmp.replace(public_path)
        return pem, kid


def _fingerprint(pem: bytes) -> str:
    import hashlib

    return hashlib.sha256(pem).hexdigest()[:12]


def public_keys() -> dict[str, bytes]:
    """The public keys a service accepts, by kid (may be empty while a local gateway has not started)."""
    raw = PUBLIC_KEYS.get()
    if raw and "=" in raw:
        keys: dict[str, bytes] = {}
        for entry in raw.split(";;"):
            kid, _, pem = entry.strip().partition("=")
            if not kid or not pem:
                raise config.ConfigError("CRM_CALLER_PUBLIC_KEYS entries are `kid=<PEM>`")
            keys[kid.strip()] = pem.strip().encode()
        return keys
    directory = Path(raw) if raw else keys_dir()
    if not directory.is_dir():
        return {}
    return {
        path.name[len(_PUBLIC_PREFIX) : -len(_PUBLIC_SUFFIX)]: path.read_bytes()
        for path in sorted(directory.glob(f"{_PUBLIC_PREFIX}*{_PUBLIC_SUFFIX}"))
    }


class ReloadingKeys:
    """Public keys that are looked up again (at most once a second) when an unknown kid arrives."""

    def __init__(self, min_interval: float = 1.0) -> None:
        self._keys = public_keys()
        # The first unknown kid looks again at once (a gateway that made its key pair just after this
        # service started); after that, at most once per `min_interval`, so forged kids cost nothing.
        self._loaded_at = time.monotonic() - min_interval
        self._min_interval = min_interval
        self._lock = threading.Lock()

    def get(self, kid: str) -> bytes | None:
        pem = self._keys.get(kid)
        if pem is not None:
            return pem
        with self._lock:
            if time.monotonic() - self._loaded_at >= self._min_interval:
                self._keys = public_keys()
                self._loaded_at = time.monotonic()
            return self._keys.get(kid)
