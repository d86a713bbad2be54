"""Vault names the platform derives from settings: one ``userrole-<user>`` AWS secrets role per user.

Pure: the settings check them before anything registers, and VaultAwsAuth builds its roles with them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

USER_ROLE_PREFIX: Final = "userrole-"
#: Vault's ``framework.GenericNameWithAtRegex`` (AWS secrets roles); Go's ``\w`` is ASCII-only.
VAULT_NAME_WITH_AT: Final = re.compile(r"^[A-Za-z0-9_]([A-Za-z0-9_.@-]*[A-Za-z0-9_])?$")
_NOT_IN_VAULT_NAME_WITH_AT: Final = re.compile(r"[^A-Za-z0-9_.@-]")


def user_role_name(user: str) -> str:
    """``userrole-<user>``: Vault allows ``@`` and ``.`` (e-mails stay as they are); other characters become ``-``.

    Raises:
        ValueError: the result is not a Vault role name (it must end with a letter, digit or underscore).
    """
    name = USER_ROLE_PREFIX + _NOT_IN_VAULT_NAME_WITH_AT.sub("-", user)
    if not VAULT_NAME_WITH_AT.fullmatch(name):
        msg = f"vault.users.{user}: {name!r} is not a Vault role name (must end with a letter, digit or _)"
        raise ValueError(msg)
    return name


def user_role_problems(users: Iterable[str]) -> list[str]:
    """``.users.<user>: ...`` for users whose role name is invalid or already another user's."""
    problems: list[str] = []
    seen: dict[str, str] = {}
    for user in sorted(users):
        try:
            name = user_role_name(user)
        except ValueError:
            problems.append(f".users.{user}: makes no Vault role name (it must end with a letter, digit or _)")
            continue
        if name in seen:
            problems.append(f".users.{user}: maps to Vault role {name!r}, as {seen[name]!r} does")
        seen.setdefault(name, user)
    return problems
