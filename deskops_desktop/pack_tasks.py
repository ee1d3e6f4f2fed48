"""A report pack's operating-system task from start to end, for the command line and the
Settings page alike: keep the sign-in in the keyring, register the task (``pack_schedule``),
record the schedule on the pack — and the way back.

Why one place: the three steps must happen together and in this order. A task registered
without a kept sign-in would fail every night; a sign-in kept for a task that was refused
would sit in the keyring for nothing. ``register`` keeps the sign-in first (the keyring is what
most often refuses, on a headless Linux), then registers the task, then records it;
``unregister`` removes the task, forgets the schedule, and deletes the sign-in once no pack
scheduled on this computer uses it.

The task lives on one computer (``host``): only there can it be removed. Qt-free.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from datetime import time
from pathlib import Path

import keyring.errors
from sqlalchemy.engine import make_url

from deskops_desktop.logs import log_path
from deskops_desktop.models.errors import DeskOpsError
from deskops_desktop.pack_schedule import (
    Plan,
    ScheduledTask,
    ScheduleError,
    Scheduler,
    task_command,
)
from deskops_desktop.services.access import Actor
from deskops_desktop.services.bundle import Services
from deskops_desktop.services.packs import PackInfo
from deskops_desktop.services.secrets import delete_sign_in, get_sign_in, set_sign_in


class TaskRefused(DeskOpsError):
    """The task cannot be registered or removed here (its message says why and what to do)."""


@dataclass(frozen=True)
class Registered:
    """A registered task: the pack as it now is, what was done, where the output goes."""

    pack: PackInfo
    plan: Plan
    log_file: Path


def task_for(pack: str, daily_at: time, db_url: str, username: str) -> ScheduledTask:
    """The task of ``pack``: ``deskops pack run`` on ``db_url`` as ``username``, its output
    appended to a log beside DeskOps' own."""
    log_file = log_path().parent / f"deskops-pack-{pack.lower()}.log"
    return ScheduledTask(pack, daily_at, task_command(pack, db_url, username), log_file=log_file)


def register(
    services: Services,
    actor: Actor,
    password: str,
    name: str,
    daily_at: time,
    *,
    db_url: str,
    scheduler: Scheduler,
    host: str | None = None,
) -> Registered:
    """Run pack ``name`` daily at ``daily_at`` from this computer, signing in as ``actor``
    (whose ``password`` goes to the keyring and nowhere else)."""
    pack = services.packs.pack(actor, name)
    if make_url(db_url).password:
        raise TaskRefused(
            "the store URL holds a password, which a scheduled task would carry on its command"
            " line; keep it in the keyring instead ('deskops db set-password URL')"
        )
    here = host or socket.gethostname()
    task = task_for(pack.name, daily_at, db_url, actor.username)
    try:
        set_sign_in(db_url, actor.username, password)
    except keyring.errors.KeyringError as exc:
        raise TaskRefused(
            f"the OS keyring refused to keep the sign-in ({exc}); a scheduled run could not"
            " sign in, so nothing was registered"
        ) from None
    if pack.schedule is not None and pack.schedule.host == here:
        scheduler.remove(pack.name, pack.schedule.kind)
    try:
        plan = scheduler.install(task)
    except ScheduleError as exc:
        _forget_unused_sign_in(services, actor, db_url, actor.username, here)
        raise TaskRefused(str(exc)) from None
    info = services.packs.set_schedule(
        actor, pack.name, daily_at, kind=plan.kind, host=here, run_as=actor.username
    ).value
    return Registered(info, plan, task.log_file or log_path())


def unregister(
    services: Services,
    actor: Actor,
    name: str,
    *,
    db_url: str,
    scheduler: Scheduler,
    host: str | None = None,
    forget: bool = False,
) -> PackInfo:
    """Remove pack ``name``'s task from this computer (``forget``: only forget a schedule
    that lives on another computer)."""
    pack = services.packs.pack(actor, name)
    if pack.schedule is None:
        return pack
    here = host or socket.gethostname()
    if pack.schedule.host != here and not forget:
        raise TaskRefused(
            f"pack {pack.name} is scheduled on {pack.schedule.host}, not on this computer"
            f" ({here}); unschedule it there, or only forget it here"
        )
    if pack.schedule.host == here:
        scheduler.remove(pack.name, pack.schedule.kind)
    info = services.packs.clear_schedule(actor, pack.name).value
    _forget_unused_sign_in(services, actor, db_url, pack.schedule.run_as, here)
    return info


def remove_pack(
    services: Services,
    actor: Actor,
    name: str,
    *,
    db_url: str,
    scheduler: Scheduler,
    host: str | None = None,
) -> PackInfo:
    """Delete pack ``name``, its task first (its files and audit rows stay)."""
    pack = services.packs.pack(actor, name)
    here = host or socket.gethostname()
    if pack.schedule is not None:
        if pack.schedule.host != here:
            raise TaskRefused(
                f"pack {pack.name} is scheduled on {pack.schedule.host}: unschedule it there first"
            )
        scheduler.remove(pack.name, pack.schedule.kind)
    services.packs.remove(actor, pack.name)
    if pack.schedule is not None:
        _forget_unused_sign_in(services, actor, db_url, pack.schedule.run_as, here)
    return pack


def keyring_actor(services: Services, db_url: str, username: str) -> Actor:
    """Sign in as ``username`` with the sign-in ``register`` kept (what the task does)."""
    password = get_sign_in(db_url, username)
    if password is None:
        where = make_url(db_url).render_as_string(hide_password=True)
        raise TaskRefused(
            f"no sign-in for {username} is kept in this computer's keyring for {where}; run"
            " 'deskops pack schedule' again (it asks for the password once)"
        )
    return services.users.authenticate(username, password)


def _forget_unused_sign_in(
    services: Services, actor: Actor, db_url: str, run_as: str, host: str
) -> None:
    still = [
        p
        for p in services.packs.packs(actor)
        if p.schedule is not None and p.schedule.host == host and p.schedule.run_as == run_as
    ]
    if not still:
        delete_sign_in(db_url, run_as)
