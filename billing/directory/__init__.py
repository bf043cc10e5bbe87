"""Repository of the organisation tree: departments, users and API keys (hashes only).

The records are in :mod:`records`; each noun has its module. Callers import from here.
"""

from billing.directory.departments import (
    create_department,
    department_name,
    find_department,
    list_departments,
)
from billing.directory.keys import (
    count_active_personal_keys,
    find_key,
    list_keys,
    list_user_keys,
    owner_of_key_hash,
    revoke_key,
    revoke_user_key,
    set_front_end,
    store_key,
)
from billing.directory.principal import FRONT_END_MODES, FrontEndTrust, Principal
from billing.directory.records import (
    ROLES,
    Department,
    DirectoryError,
    KeyInfo,
    NoSuchDepartment,
    OwnKey,
    User,
)
from billing.directory.users import (
    create_user,
    find_user,
    list_users,
    sync_user,
    user_in_department,
)

__all__ = [
    "FRONT_END_MODES",
    "ROLES",
    "Department",
    "DirectoryError",
    "FrontEndTrust",
    "KeyInfo",
    "NoSuchDepartment",
    "OwnKey",
    "Principal",
    "User",
    "count_active_personal_keys",
    "create_department",
    "create_user",
    "department_name",
    "find_department",
    "find_key",
    "find_user",
    "list_departments",
    "list_keys",
    "list_user_keys",
    "list_users",
    "owner_of_key_hash",
    "revoke_key",
    "revoke_user_key",
    "set_front_end",
    "store_key",
    "sync_user",
    "user_in_department",
]
