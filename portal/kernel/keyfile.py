"""A secret kept in a file the install made itself (the embedded install's SECRET_KEY and data
keys): created once, mode 0600, atomically, so two processes starting at once read the same one."""
from __future__ import annotations

import os
import secrets
from collections.abc import Callable


def kept_text(path: str, make: Callable[[], str]) -> str:
    """The text in ``path``; if there is no such file, ``make()`` is written there first."""
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except FileNotFoundError:
        pass
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    tmp = f"{path}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(make())
        try:
            os.link(tmp, path)          # fails if another process got there first: use theirs
        except FileExistsError:
            pass
    finally:
        os.unlink(tmp)
    with open(path, encoding="utf-8") as f:
        return f.read()
