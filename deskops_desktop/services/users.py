"""Users, sign-in and roles.

Sign-in never says whether the user name or the password was wrong. Five failures in a row lock
the account for ``LOCK_MINUTES``; a successful sign-in resets the count. The very first user of
an empty store may be created without an actor (the setup step) and is always an ADMIN.

On a secured PostgreSQL store (``deskops db init-server``, see ``pg_security``) every user is also
a login role: creating a user, changing their role or active flag, and setting a password change
that role in the same transaction. The password is then the role's password and nothing else:
``users.password_hash`` holds a placeholder, sign-in is connecting as the role (the server checks
the password; lockout after failed sign-ins is the server's business there, not this table's).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, undefer

from deskops_desktop.models.accounts import User, UserSite
from deskops_desktop.models.enums import Role
from deskops_desktop.models.errors import (
    AuthenticationError,
    NotFound,
    PermissionDenied,
    Problem,
    StoreOfflineError,
    ValidationError,
)
from deskops_desktop.models.reference import Site
from deskops_desktop.services import passwords, pg_security
from deskops_desktop.services.access import Actor, require_admin
from deskops_desktop.services.audit import log_change
from deskops_desktop.services.changes import USERS_CHANGED, Changed
from deskops_desktop.services.connectivity import is_offline_error
from deskops_desktop.services.passwords import hash_password, password_problem, verify_password
from deskops_desktop.services.store import StoreService

MAX_FAILED_LOGINS = 5
LOCK_MINUTES = 15
_USERNAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789._-")


@dataclass(frozen=True)
class UserInfo:
    """A user as the admin pages list them (no password hash)."""

    id: str
    username: str
    display_name: str
    role: Role
    site_codes: tuple[str, ...]
    active: bool
    locked_until: datetime | None
    failed_logins: int


class UserService(StoreService):
    """Users, their roles and sites, passwords and sign-in (with the lockout after failed tries).

    On a secured PostgreSQL store every user is also a login role (``pg_security``).
    """

    def count(self) -> int:
        with self._store.read() as session:
            return int(session.scalar(select(func.count()).select_from(User)) or 0)

    def create(
        self,
        actor: Actor | None,
        username: str,
        password: str,
        role: Role,
        site_codes: Sequence[str] = (),
        display_name: str = "",
    ) -> Changed[UserInfo]:
        with self._store.write() as session:
            first = session.scalar(select(func.count()).select_from(User)) == 0
            if actor is None:
                if not first:
                    raise PermissionDenied("sign in as an administrator to add users")
                if role is not Role.ADMIN:
                    raise ValidationError(
                        [Problem("role", "the first user must be an administrator")]
                    )
            else:
                require_admin(actor, "add users")
            name = username.strip().lower()
            problems = _username_problems(name)
            if session.scalar(select(User.id).where(User.username == name)) is not None:
                problems.append(Problem("username", f"user '{name}' already exists"))
            weak = password_problem(password)
            if weak:
                problems.append(Problem("password", weak))
            server = self._server(session)
            if server is not None and len(name) > server.max_username_length:
                problems.append(
                    Problem(
                        "username", f"must be at most {server.max_username_length} characters here"
                    )
                )
            site_ids, site_problems = _resolve_sites(session, site_codes)
            problems.extend(site_problems)
            if role is not Role.ADMIN and not site_ids:
                problems.append(Problem("sites", "operators and moderators need at least one site"))
            if problems:
                raise ValidationError(problems)
            user = User(
                username=name,
                display_name=display_name.strip() or name,
                password_hash=(pg_security.PLACEHOLDER_HASH if server else hash_password(password)),
                role=role.value,
                created_by=actor.user_id if actor else None,
            )
            session.add(user)
            session.flush()
            for site_id in site_ids:
                session.add(UserSite(user_id=user.id, site_id=site_id))
            if server is not None:
                pg_security.sync_login(session, server, name, role.value, True, password)
            log_change(
                session,
                actor or _self_actor(user),
                "users",
                user.id,
                "INSERT",
                None,
                {"username": name, "role": role.value, "sites": list(site_codes)},
            )
            session.flush()
            return Changed(_info(session, user), USERS_CHANGED)

    def authenticate(self, username: str, password: str) -> Actor:
        if self._store.sign_in_by_role:
            return self._sign_in_as_role(username, password)
        failure = AuthenticationError("wrong user name or password")
        error: AuthenticationError | None = None
        with self._store.write() as session:
            user = session.scalar(
                select(User)
                .options(undefer(User.password_hash))
                .where(User.username == username.strip().lower())
            )
            if user is None:
                # The same work as a real check: no timing hint that the name is unknown.
                verify_password(password, _dummy_hash())
                raise failure
            now = self._now()
            if user.locked_until is not None and user.locked_until > now:
                raise AuthenticationError(
                    f"this account is locked until {user.locked_until:%H:%M} UTC after repeated "
                    "failed "
                    "sign-ins; try later or ask an administrator to unlock it"
                )
            if not verify_password(password, user.password_hash) or not user.active:
                # Count the failure and commit it (leave the block normally), then refuse.
                user.failed_logins += 1
                if user.failed_logins >= MAX_FAILED_LOGINS:
                    user.locked_until = now + timedelta(minutes=LOCK_MINUTES)
                    user.failed_logins = 0
                error = failure
            else:
                user.failed_logins = 0
                user.locked_until = None
                actor = _actor(session, user)
        if error is not None:
            raise error
        return actor

    def _sign_in_as_role(self, username: str, password: str) -> Actor:
        """Sign-in on a secured store: connect as the user's own role; the server says yes or no.

        The store switches to that role for good on success, so every later query of every
        service runs with exactly this clerk's rights.
        """
        from deskops_desktop.services.migrate import HEAD_REVISION

        failure = AuthenticationError("wrong user name or password")
        name = username.strip().lower()
        if not pg_security.valid_username(name) or not password:
            raise failure
        roles = pg_security.roles_for(self._store.url)
        self._store.use_credentials(roles.login(name), password)
        try:
            with self._store.read() as session:
                user_id = session.execute(text("SELECT deskops_user_id()")).scalar()
                user = session.get(User, user_id) if user_id else None
                if user is None:
                    raise failure
                revision = session.execute(text("SELECT version_num FROM alembic_version")).scalar()
                if revision != HEAD_REVISION:
                    raise AuthenticationError(
                        f"the server's data is at schema {revision}, this DeskOps needs "
                        f"{HEAD_REVISION}: ask an administrator to run 'deskops db init-server' "
                        "with this version of DeskOps"
                    )
                return _actor(session, user)
        except DBAPIError as exc:
            if _refused_sign_in(exc):
                raise failure from None
            if is_offline_error(exc):
                raise StoreOfflineError(
                    f"the server cannot be reached ({self._store.url.host}); check the network "
                    "and try again"
                ) from None
            raise

    def actor(self, user_id: str) -> Actor:
        with self._store.read() as session:
            user = session.get(User, user_id)
            if user is None:
                raise NotFound("user not found")
            return _actor(session, user)

    def change_password(self, actor: Actor, old: str, new: str) -> Changed[None]:
        """The signed-in user's own password (the old one must be right)."""
        if self._store.sign_in_by_role:
            self._change_role_password(actor, old, new)
            return Changed(None, USERS_CHANGED)
        with self._store.write() as session:
            user = _get(session, actor.user_id)
            if not verify_password(old, user.password_hash):
                raise ValidationError([Problem("old_password", "is not your current password")])
            weak = password_problem(new)
            if weak:
                raise ValidationError([Problem("new_password", weak)])
            user.password_hash = hash_password(new)
            log_change(session, actor, "users", user.id, "UPDATE", None, {"password": "changed"})
        return Changed(None, USERS_CHANGED)

    def _change_role_password(self, actor: Actor, old: str, new: str) -> None:
        """A clerk's own password on a secured store: the old one must open a connection."""
        from sqlalchemy import create_engine
        from sqlalchemy.pool import NullPool

        roles = pg_security.roles_for(self._store.url)
        login = roles.login(actor.username)
        probe = create_engine(self._store.url.set(username=login, password=old), poolclass=NullPool)
        try:
            with probe.connect():
                pass
        except DBAPIError as exc:
            if _refused_sign_in(exc):
                raise ValidationError(
                    [Problem("old_password", "is not your current password")]
                ) from None
            raise
        finally:
            probe.dispose()
        weak = password_problem(new)
        if weak:
            raise ValidationError([Problem("new_password", weak)])
        with self._store.write() as session:
            pg_security.set_own_password(session, login, new)
            log_change(
                session,
                actor,
                "users",
                actor.user_id or "",
                "UPDATE",
                None,
                {"password": "changed"},
            )
        self._store.use_credentials(login, new)

    def set_password(self, actor: Actor, user_id: str, new: str) -> Changed[None]:
        """Reset a user's password (an administrator, or the user themselves)."""
        if actor.user_id != user_id:
            require_admin(actor, "reset other users' passwords")
        weak = password_problem(new)
        if weak:
            raise ValidationError([Problem("password", weak)])
        with self._store.write() as session:
            user = _get(session, user_id)
            server = self._server(session)
            if server is None:
                user.password_hash = hash_password(new)
            elif actor.user_id == user_id and not actor.is_admin:
                pg_security.set_own_password(session, server.login(user.username), new)
            else:
                user.password_hash = pg_security.PLACEHOLDER_HASH
                pg_security.sync_login(session, server, user.username, user.role, user.active, new)
            user.failed_logins = 0
            user.locked_until = None
            log_change(session, actor, "users", user.id, "UPDATE", None, {"password": "reset"})
        return Changed(None, USERS_CHANGED)

    def update(
        self,
        actor: Actor,
        user_id: str,
        *,
        role: Role | None = None,
        site_codes: Sequence[str] | None = None,
        active: bool | None = None,
        display_name: str | None = None,
    ) -> Changed[UserInfo]:
        require_admin(actor, "change users")
        with self._store.write() as session:
            user = _get(session, user_id)
            old = {"role": user.role, "active": user.active, "display_name": user.display_name}
            if user.id == actor.user_id and (
                active is False or (role is not None and role is not Role.ADMIN)
            ):
                raise ValidationError([Problem("role", "you cannot demote or deactivate yourself")])
            if site_codes is not None:
                site_ids, problems = _resolve_sites(session, site_codes)
                if problems:
                    raise ValidationError(problems)
            else:
                site_ids = list(_site_ids(session, user.id))
            # The same rule as create(): a non-admin without a site could do nothing at all.
            if (role or Role(user.role)) is not Role.ADMIN and not site_ids:
                raise ValidationError(
                    [Problem("sites", "operators and moderators need at least one site")]
                )
            if role is not None:
                user.role = role.value
            if active is not None:
                user.active = active
            if display_name is not None:
                user.display_name = display_name.strip()
            if site_codes is not None:
                session.execute(delete(UserSite).where(UserSite.user_id == user.id))
                for site_id in site_ids:
                    session.add(UserSite(user_id=user.id, site_id=site_id))
            log_change(
                session,
                actor,
                "users",
                user.id,
                "UPDATE",
                old,
                {
                    "role": user.role,
                    "active": user.active,
                    "display_name": user.display_name,
                    "sites": list(site_codes) if site_codes is not None else None,
                },
            )
            session.flush()
            server = self._server(session)
            if server is not None:
                # Sites need nothing here: the policies read user_sites at every query.
                pg_security.sync_login(session, server, user.username, user.role, user.active)
            return Changed(_info(session, user), USERS_CHANGED)

    def unlock(self, actor: Actor, user_id: str) -> Changed[None]:
        """Lift a lock after repeated failed sign-ins."""
        require_admin(actor, "unlock accounts")
        with self._store.write() as session:
            user = _get(session, user_id)
            user.failed_logins = 0
            user.locked_until = None
            log_change(session, actor, "users", user.id, "UPDATE", None, {"unlocked": True})
        return Changed(None, USERS_CHANGED)

    def usernames(self, user_ids: Sequence[str]) -> dict[str, str]:
        """User id -> user name, for "who" columns (names are not secret; hashes never leave)."""
        wanted = [u for u in set(user_ids) if u]
        if not wanted:
            return {}
        with self._store.read() as session:
            return dict(
                session.execute(select(User.id, User.username).where(User.id.in_(wanted))).all()
            )

    def _server(self, session: Session) -> pg_security.ServerRoles | None:
        """The role names of a secured PostgreSQL store, else None (SQLite or a plain server)."""
        if self._store.is_sqlite or not pg_security.is_secured(session):
            return None
        return pg_security.roles_for(self._store.url)

    def list(self, actor: Actor) -> list[UserInfo]:
        with self._store.read() as session:
            query = select(User).order_by(User.username)
            if not actor.is_admin:
                query = query.where(User.id == actor.user_id)
            return [_info(session, u) for u in session.scalars(query)]


def _refused_sign_in(exc: DBAPIError) -> bool:
    """Whether a connection failed because the server refused these credentials.

    libpq reports those at connect time as text only (no SQLSTATE on the Python side).
    """
    message = str(exc.orig or exc).lower()
    return any(
        part in message
        for part in (
            "password authentication failed",
            "authentication failed",
            "no password supplied",
            "does not exist",
            "not permitted to log in",
            "permission denied for database",
        )
    )


def _dummy_hash() -> str:
    """A hash at the *current* cost, so an unknown user name takes as long as a wrong password
    (a fixed cheaper cost would tell an attacker which user names exist)."""
    zeros_salt, zeros_key = (
        "AAAAAAAAAAAAAAAAAAAAAA==",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    )
    return (
        f"scrypt${passwords.COST_LOG_N}${passwords.BLOCK_SIZE}${passwords.PARALLELISM}"
        f"${zeros_salt}${zeros_key}"
    )


def _username_problems(name: str) -> list[Problem]:
    if not 2 <= len(name) <= 64:
        return [Problem("username", "must be 2 to 64 characters")]
    if not set(name) <= _USERNAME_CHARS:
        return [Problem("username", "may contain only letters, digits, '.', '_' and '-'")]
    return []


def _resolve_sites(session: Session, codes: Sequence[str]) -> tuple[list[str], list[Problem]]:
    ids: list[str] = []
    problems: list[Problem] = []
    for code in codes:
        site_id = session.scalar(
            select(Site.id).where(func.upper(Site.code) == code.strip().upper())
        )
        if site_id is None:
            problems.append(Problem("sites", f"unknown site '{code}'"))
        elif site_id not in ids:
            ids.append(site_id)
    return ids, problems


def _get(session: Session, user_id: str | None) -> User:
    user = session.get(User, user_id) if user_id else None
    if user is None:
        raise NotFound("user not found")
    return user


def _site_ids(session: Session, user_id: str) -> frozenset[str]:
    return frozenset(session.scalars(select(UserSite.site_id).where(UserSite.user_id == user_id)))


def _actor(session: Session, user: User) -> Actor:
    return Actor(
        user.id, user.username, Role(user.role), _site_ids(session, user.id), user.display_name
    )


def _self_actor(user: User) -> Actor:
    return Actor(user.id, user.username, Role(user.role))


def _info(session: Session, user: User) -> UserInfo:
    codes = tuple(
        session.scalars(
            select(Site.code)
            .join(UserSite, UserSite.site_id == Site.id)
            .where(UserSite.user_id == user.id)
            .order_by(Site.code)
        )
    )
    return UserInfo(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=Role(user.role),
        site_codes=codes,
        active=user.active,
        locked_until=user.locked_until,
        failed_logins=user.failed_logins,
    )
