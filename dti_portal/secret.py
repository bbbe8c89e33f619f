"""The portal's signing secret: ``$DTI_PORTAL_SECRET``, or the file ``$DTI_HOME/portal/secret.key``
(created on first use, readable by its owner only). Rotating it logs every user out."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


class SecretError(RuntimeError):
    """The secret file exists but others may read it, or it is too short."""


MIN_LENGTH = 32


def secret_path() -> Path:
    """Where the secret file lives."""
    from dti_portal.store import portal_home

    return portal_home() / "secret.key"


def load_secret() -> str:
    """The signing secret (environment first, then the file, created when missing)."""
    from_env = os.environ.get("DTI_PORTAL_SECRET")
    if from_env:
        if len(from_env) < MIN_LENGTH:
            raise SecretError(f"DTI_PORTAL_SECRET ngắn hơn {MIN_LENGTH} ký tự")
        return from_env
    path = secret_path()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(handle, "w") as out:
            out.write(secrets.token_urlsafe(48) + "\n")
    if path.stat().st_mode & 0o077:
        raise SecretError(f"tệp khóa bí mật {path} cho phép người khác đọc: chạy chmod 600 {path}")
    text = path.read_text().strip()
    if len(text) < MIN_LENGTH:
        raise SecretError(f"tệp khóa bí mật {path} ngắn hơn {MIN_LENGTH} ký tự")
    return text
