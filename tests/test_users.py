"""Users, passwords and roles on both backends.

Hashes are made at a low scrypt cost in tests (conftest); the shipped OWASP cost is asserted on
the module constants, and one real hash is made and checked at full cost.
"""

from __future__ import annotations

import ast
import base64
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from deskops_desktop.models.accounts import User
from deskops_desktop.models.changelog import ChangeLog
from deskops_desktop.models.clock import FixedClock
from deskops_desktop.models.enums import Role
from deskops_desktop.models.errors import (
    AuthenticationError,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from deskops_desktop.services import passwords
from deskops_desktop.services.access import Actor
from deskops_desktop.services.bundle import Services, build_services
from deskops_desktop.services.changes import Area
from deskops_desktop.services.store import Store
from deskops_desktop.services.users import LOCK_MINUTES, MAX_FAILED_LOGINS, UserInfo, UserService
from tests.conftest import FIXED_NOW

PASSWORD = "correct horse battery"


@pytest.fixture
def services(store: Store) -> Services:
    return build_services(store)


@pytest.fixture
def admin(services: Services) -> Actor:
    services.users.create(None, "boss", PASSWORD, Role.ADMIN, display_name="The Boss")
    return services.users.authenticate("boss", PASSWORD)


def fields(exc: pytest.ExceptionInfo[ValidationError]) -> dict[str, str]:
    return {p.field: p.message for p in exc.value.problems}


# ------------------------------------------------------------------ password hashing
def test_shipped_scrypt_cost_is_owasp() -> None:
    # conftest lowers COST_LOG_N for speed, so read the shipped values from the module's source.
    tree = ast.parse(Path(passwords.__file__).read_text(encoding="utf-8"))
    shipped = {
        node.targets[0].id: ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
    }
    assert shipped["COST_LOG_N"] == 17  # N = 2**17 = 131,072
    assert shipped["BLOCK_SIZE"] == 8  # r
    assert shipped["PARALLELISM"] == 1  # p
    assert shipped["KEY_LENGTH"] == 32
    assert (passwords.BLOCK_SIZE, passwords.PARALLELISM) == (8, 1)


def test_one_real_hash_at_full_cost(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "COST_LOG_N", 17)
    stored = passwords.hash_password("s3cret pass")
    scheme, log_n, r, p, salt, key = stored.split("$")
    assert (scheme, log_n, r, p) == ("scrypt", "17", "8", "1")
    assert len(base64.b64decode(salt)) == 16
    assert len(base64.b64decode(key)) == 32
    assert passwords.verify_password("s3cret pass", stored)
    assert not passwords.verify_password("s3cret pasS", stored)


def test_hash_format_salt_and_verification() -> None:
    first = passwords.hash_password(PASSWORD)
    second = passwords.hash_password(PASSWORD)
    assert first != second  # random salt
    assert first.startswith(f"scrypt${passwords.COST_LOG_N}$8$1$")
    assert passwords.verify_password(PASSWORD, first)
    assert passwords.verify_password(PASSWORD, second)
    assert not passwords.verify_password(PASSWORD + "!", first)
    assert PASSWORD not in first


def test_a_hash_keeps_verifying_after_the_cost_is_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    old = passwords.hash_password(PASSWORD)
    monkeypatch.setattr(passwords, "COST_LOG_N", 5)
    assert passwords.verify_password(PASSWORD, old)
    assert passwords.hash_password(PASSWORD).startswith("scrypt$5$")


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "plain",
        "bcrypt$12$8$1$AAAA$AAAA",
        "scrypt$x$8$1$AAAA$AAAA",
        "scrypt$4$8$1$%%%$AAAA",
        "scrypt$4$8",
    ],
)
def test_malformed_hashes_never_verify(stored: str) -> None:
    assert passwords.verify_password("anything", stored) is False


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short", "at least 8 characters"),
        (" padded pass", "must not start or end with a space"),
        ("padded pass ", "must not start or end with a space"),
        ("long enough", None),
    ],
)
def test_password_rules(password: str, problem: str | None) -> None:
    found = passwords.password_problem(password)
    assert (found is None) if problem is None else (problem in str(found))


# ------------------------------------------------------------------ first user
def test_first_user_needs_no_sign_in_and_must_be_admin(services: Services, store: Store) -> None:
    users = services.users
    assert users.count() == 0
    with pytest.raises(ValidationError) as info:
        users.create(None, "clerk", PASSWORD, Role.OPERATOR, ["ALASLA-29"])
    assert fields(info) == {"role": "the first user must be an administrator"}
    changed = users.create(None, "  Boss ", PASSWORD, Role.ADMIN)
    info_, changes = changed.value, changed.changes
    assert (info_.username, info_.display_name, info_.role, info_.active) == (
        "boss",
        "boss",
        Role.ADMIN,
        True,
    )
    assert info_.site_codes == ()
    assert Area.USERS in changes.areas
    assert users.count() == 1
    # From now on only a signed-in administrator may add users.
    with pytest.raises(PermissionDenied, match="sign in as an administrator"):
        users.create(None, "second", PASSWORD, Role.ADMIN)
    with store.read() as session:
        entry = session.scalars(select(ChangeLog).where(ChangeLog.table_name == "users")).one()
        assert entry.action == "INSERT"
        assert entry.user_id == info_.id  # the setup step is logged as the new admin
        assert entry.new_values == {"username": "boss", "role": "ADMIN", "sites": []}
        stored = session.scalars(select(User.password_hash)).one()
    assert stored.startswith("scrypt$")
    assert PASSWORD not in stored


def test_create_reports_every_problem(services: Services, admin: Actor) -> None:
    with pytest.raises(ValidationError) as info:
        services.users.create(admin, "x", "short", Role.OPERATOR, ["NOWHERE"])
    assert [(p.field, p.message) for p in info.value.problems] == [
        ("username", "must be 2 to 64 characters"),
        ("password", "must be at least 8 characters"),
        ("sites", "unknown site 'NOWHERE'"),
        ("sites", "operators and moderators need at least one site"),
    ]
    with pytest.raises(ValidationError) as info:
        services.users.create(admin, "bad name!", PASSWORD, Role.MODERATOR)
    assert fields(info) == {
        "username": "may contain only letters, digits, '.', '_' and '-'",
        "sites": "operators and moderators need at least one site",
    }
    with pytest.raises(ValidationError, match="user 'boss' already exists"):
        services.users.create(admin, "BOSS", PASSWORD, Role.ADMIN)


def test_admin_adds_users_with_sites(services: Services, admin: Actor) -> None:
    north = services.master.add_site(admin, "NORTH-01", "North Yard").value
    info = services.users.create(
        admin,
        "clerk.one",
        PASSWORD,
        Role.OPERATOR,
        ["alasla-29", "NORTH-01", "ALASLA-29"],
        display_name="Clerk 1",
    ).value
    assert info.site_codes == ("ALASLA-29", "NORTH-01")
    assert info.display_name == "Clerk 1"
    clerk = services.users.authenticate("clerk.one", PASSWORD)
    assert clerk.role is Role.OPERATOR
    assert north.id in clerk.site_ids
    assert len(clerk.site_ids) == 2
    assert clerk.can_see_site(north.id)
    assert not clerk.is_admin


def test_non_admins_may_not_manage_users(services: Services, admin: Actor) -> None:
    services.users.create(admin, "super", PASSWORD, Role.MODERATOR, ["ALASLA-29"])
    moderator = services.users.authenticate("super", PASSWORD)
    boss_id = str(admin.user_id)
    with pytest.raises(PermissionDenied, match="only an administrator may add users"):
        services.users.create(moderator, "other", PASSWORD, Role.OPERATOR, ["ALASLA-29"])
    with pytest.raises(PermissionDenied):
        services.users.update(moderator, boss_id, role=Role.OPERATOR)
    with pytest.raises(PermissionDenied):
        services.users.set_password(moderator, boss_id, "taken over!")
    with pytest.raises(PermissionDenied):
        services.users.unlock(moderator, boss_id)
    # A non-admin sees only themself.
    assert [u.username for u in services.users.list(moderator)] == ["super"]
    assert [u.username for u in services.users.list(admin)] == ["boss", "super"]


# ------------------------------------------------------------------ sign-in
def test_authenticate_success(services: Services, admin: Actor) -> None:
    assert admin.username == "boss"
    assert admin.role is Role.ADMIN
    assert admin.display_name == "The Boss"
    assert (
        services.users.authenticate("  BOSS ", PASSWORD).user_id == admin.user_id
    )  # user name as typed
    assert services.users.actor(str(admin.user_id)) == admin
    with pytest.raises(NotFound):
        services.users.actor("no-such-user")


def test_failure_message_is_the_same_for_unknown_user_and_wrong_password(
    services: Services, admin: Actor
) -> None:
    with pytest.raises(AuthenticationError) as unknown:
        services.users.authenticate("nobody", PASSWORD)
    with pytest.raises(AuthenticationError) as wrong:
        services.users.authenticate("boss", "wrong password")
    assert str(unknown.value) == str(wrong.value) == "wrong user name or password"


def test_unknown_user_costs_a_full_hash(
    services: Services, admin: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No timing hint: an unknown name runs scrypt at the same cost as a real check."""
    costs: list[int] = []
    real = passwords._scrypt

    def spy(password: str, salt: bytes, log_n: int, r: int, p: int) -> bytes:
        costs.append(log_n)
        return real(password, salt, log_n, r, p)

    monkeypatch.setattr(passwords, "_scrypt", spy)
    monkeypatch.setattr(passwords, "COST_LOG_N", 6)
    with pytest.raises(AuthenticationError):
        services.users.authenticate("nobody", PASSWORD)
    assert costs == [6]


def test_inactive_user_cannot_sign_in(services: Services, admin: Actor) -> None:
    info = services.users.create(admin, "leaver", PASSWORD, Role.OPERATOR, ["ALASLA-29"]).value
    services.users.update(admin, info.id, active=False)
    with pytest.raises(AuthenticationError, match="wrong user name or password"):
        services.users.authenticate("leaver", PASSWORD)


def test_lockout_after_five_failures_and_unlock(store: Store, clock: FixedClock) -> None:
    users = UserService(store)
    users.create(None, "boss", PASSWORD, Role.ADMIN)
    boss = users.authenticate("boss", PASSWORD)
    info = users.create(boss, "clerk", PASSWORD, Role.OPERATOR, ["ALASLA-29"]).value
    assert MAX_FAILED_LOGINS == 5
    for attempt in range(1, 5):
        with pytest.raises(AuthenticationError, match="wrong user name or password"):
            users.authenticate("clerk", "bad guess")
        assert _user(users, boss, "clerk").failed_logins == attempt  # each failure is committed
    # A success resets the count.
    users.authenticate("clerk", PASSWORD)
    assert _user(users, boss, "clerk").failed_logins == 0
    for _ in range(5):
        with pytest.raises(AuthenticationError):
            users.authenticate("clerk", "bad guess")
    locked = _user(users, boss, "clerk")
    assert locked.locked_until == FIXED_NOW + timedelta(minutes=LOCK_MINUTES)
    # Locked: even the right password is refused, saying why.
    until = f"{FIXED_NOW + timedelta(minutes=LOCK_MINUTES):%H:%M}"
    with pytest.raises(AuthenticationError, match=f"locked until {until} UTC"):
        users.authenticate("clerk", PASSWORD)
    # The lock expires by itself...
    clock.set(FIXED_NOW + timedelta(minutes=LOCK_MINUTES, seconds=1))
    assert users.authenticate("clerk", PASSWORD).username == "clerk"
    # ...or an administrator lifts it.
    clock.set(FIXED_NOW)
    for _ in range(5):
        with pytest.raises(AuthenticationError):
            users.authenticate("clerk", "bad guess")
    with pytest.raises(AuthenticationError, match="locked"):
        users.authenticate("clerk", PASSWORD)
    users.unlock(boss, info.id)
    assert _user(users, boss, "clerk").locked_until is None
    assert users.authenticate("clerk", PASSWORD).username == "clerk"


def _user(users: UserService, admin: Actor, name: str) -> UserInfo:
    return next(u for u in users.list(admin) if u.username == name)


# ------------------------------------------------------------------ passwords
def test_change_own_password(services: Services, admin: Actor) -> None:
    with pytest.raises(ValidationError) as info:
        services.users.change_password(admin, "not my password", "new password 1")
    assert fields(info) == {"old_password": "is not your current password"}
    with pytest.raises(ValidationError) as info:
        services.users.change_password(admin, PASSWORD, "short")
    assert fields(info) == {"new_password": "must be at least 8 characters"}
    services.users.change_password(admin, PASSWORD, "new password 1")
    with pytest.raises(AuthenticationError):
        services.users.authenticate("boss", PASSWORD)
    assert services.users.authenticate("boss", "new password 1").user_id == admin.user_id


def test_admin_sets_a_password_and_clears_a_lock(services: Services, admin: Actor) -> None:
    info = services.users.create(admin, "clerk", PASSWORD, Role.OPERATOR, ["ALASLA-29"]).value
    for _ in range(5):
        with pytest.raises(AuthenticationError):
            services.users.authenticate("clerk", "bad guess")
    with pytest.raises(ValidationError, match="at least 8"):
        services.users.set_password(admin, info.id, "short")
    services.users.set_password(admin, info.id, "fresh start 2")
    assert services.users.authenticate("clerk", "fresh start 2").username == "clerk"
    with pytest.raises(NotFound):
        services.users.set_password(admin, "no-such-user", "fresh start 2")


def test_no_change_log_entry_holds_a_password(
    services: Services, store: Store, admin: Actor
) -> None:
    info = services.users.create(admin, "clerk", PASSWORD, Role.OPERATOR, ["ALASLA-29"]).value
    services.users.set_password(admin, info.id, "fresh start 2")
    services.users.change_password(admin, PASSWORD, "new password 1")
    with store.read() as session:
        entries = session.scalars(select(ChangeLog).where(ChangeLog.table_name == "users")).all()
        dumped = repr([(e.old_values, e.new_values) for e in entries])
    assert len(entries) == 4
    for secret in (PASSWORD, "fresh start 2", "new password 1", "scrypt$"):
        assert secret not in dumped


# ------------------------------------------------------------------ roles and sites
def test_update_role_sites_and_name(services: Services, admin: Actor) -> None:
    services.master.add_site(admin, "NORTH-01", "North Yard")
    info = services.users.create(admin, "clerk", PASSWORD, Role.OPERATOR, ["ALASLA-29"]).value
    changed = services.users.update(
        admin, info.id, role=Role.MODERATOR, site_codes=["NORTH-01"], display_name=" Site Lead "
    )
    updated, changes = changed.value, changed.changes
    assert (updated.role, updated.site_codes, updated.display_name) == (
        Role.MODERATOR,
        ("NORTH-01",),
        "Site Lead",
    )
    assert Area.USERS in changes.areas
    actor = services.users.authenticate("clerk", PASSWORD)
    assert actor.role is Role.MODERATOR
    assert len(actor.site_ids) == 1
    # Only the fields given change.
    again = services.users.update(admin, info.id, display_name="Lead").value
    assert (again.role, again.site_codes) == (Role.MODERATOR, ("NORTH-01",))
    # Promoting to admin needs no site; demoting back needs one.
    promoted = services.users.update(admin, info.id, role=Role.ADMIN, site_codes=[]).value
    assert promoted.role is Role.ADMIN
    with pytest.raises(ValidationError, match="need at least one site"):
        services.users.update(admin, info.id, role=Role.OPERATOR)
    with pytest.raises(ValidationError, match="unknown site 'MOON-01'"):
        services.users.update(admin, info.id, role=Role.OPERATOR, site_codes=["MOON-01"])
    demoted = services.users.update(admin, info.id, role=Role.OPERATOR, site_codes=["ALASLA-29"])
    assert demoted.value.role is Role.OPERATOR
    with pytest.raises(ValidationError, match="need at least one site"):
        services.users.update(admin, info.id, site_codes=[])


def test_admin_cannot_demote_or_deactivate_themself(services: Services, admin: Actor) -> None:
    with pytest.raises(ValidationError, match="cannot demote or deactivate yourself"):
        services.users.update(
            admin, str(admin.user_id), role=Role.MODERATOR, site_codes=["ALASLA-29"]
        )
    with pytest.raises(ValidationError, match="cannot demote or deactivate yourself"):
        services.users.update(admin, str(admin.user_id), active=False)
    assert (
        services.users.update(admin, str(admin.user_id), display_name="Still Boss").value.role
        is Role.ADMIN
    )


def test_role_change_is_logged_with_old_and_new(
    services: Services, store: Store, admin: Actor
) -> None:
    info = services.users.create(admin, "clerk", PASSWORD, Role.OPERATOR, ["ALASLA-29"]).value
    services.users.update(admin, info.id, role=Role.MODERATOR)
    with store.read() as session:
        entry = session.scalars(
            select(ChangeLog).where(ChangeLog.record_id == info.id, ChangeLog.action == "UPDATE")
        ).one()
        assert entry.old_values is not None
        assert entry.new_values is not None
        assert (entry.old_values["role"], entry.new_values["role"]) == ("OPERATOR", "MODERATOR")
        assert entry.user_id == admin.user_id
