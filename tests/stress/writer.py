"""A DeskOps client process for the stress and crash tests (``python -m tests.stress.writer``).

- ``mixed URL SECONDS SEED``: production, dispatch and adjustments (create, edit, delete) for one
  site and three materials until the time is up, through the app's own services, deadlocks
  retried by ``with_retries`` as the desktop does. Prints one JSON line of counts.
- ``sequential URL COUNT``: COUNT dispatches, printing each record's id *after* its commit and
  flushing, so whoever kills this process knows exactly which writes were reported committed.
"""

from __future__ import annotations

import json
import random
import sys
import time
from datetime import timedelta
from functools import partial

from sqlalchemy.exc import IntegrityError

from deskops_desktop.models.enums import Module
from deskops_desktop.models.errors import DeskOpsError, NotFound, StaleRecordError
from deskops_desktop.models.ids import new_id
from deskops_desktop.services.access import SYSTEM
from deskops_desktop.services.bundle import build_services
from deskops_desktop.services.connectivity import with_retries
from deskops_desktop.services.store import Store

SITE_CODE = "ALASLA-29"
MATERIALS = ("AGG-G1", "AGG-3/4", "FINE-WASHED")


def mixed(url: str, seconds: float, seed: int) -> dict[str, int]:
    rng = random.Random(seed)
    store = Store(url)
    services = build_services(store)
    records = services.records
    site = services.master.site_by_code(SYSTEM, SITE_CODE)
    today = store.clock.today(site.timezone)
    counts = {"created": 0, "updated": 0, "deleted": 0, "stale": 0, "duplicate": 0, "refused": 0}
    mine: list[tuple[Module, str]] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        day = today - timedelta(days=rng.randrange(0, 20))
        material = rng.choice(MATERIALS)
        quantity = f"{rng.randrange(1, 500)}.{rng.randrange(0, 1000):03d}"
        action = rng.random()
        try:
            if action < 0.6 or not mine:
                module = rng.choice((Module.PRODUCTION, Module.DISPATCH, Module.ADJUSTMENTS))
                raw: dict[str, object] = {
                    "date": day.isoformat(),
                    "material": material,
                    "quantity": quantity,
                }
                if module is Module.PRODUCTION:
                    raw |= {"operation": "CRU-PRO", "shift": rng.choice(("MORNING", "NIGHT", ""))}
                elif module is Module.ADJUSTMENTS:
                    raw |= {"reason": "CORRECTION", "quantity": rng.choice(("", "-")) + quantity}
                row = with_retries(partial(records.create, SYSTEM, module, site.id, raw)).value
                mine.append((module, row.id))
                counts["created"] += 1
            elif action < 0.85:
                module, record_id = rng.choice(mine)
                current = records.get(SYSTEM, module, record_id)
                values = {
                    **current.values,
                    "quantity": quantity if module is not Module.ADJUSTMENTS else "-" + quantity,
                }
                with_retries(
                    partial(
                        records.update,
                        SYSTEM,
                        module,
                        record_id,
                        values,
                        expected_version=current.version,
                    )
                )
                counts["updated"] += 1
            else:
                entry = rng.choice(mine)
                mine.remove(entry)
                with_retries(partial(records.delete, SYSTEM, entry[0], entry[1]))
                counts["deleted"] += 1
        except StaleRecordError:
            counts["stale"] += 1
        except IntegrityError:
            counts["duplicate"] += 1  # a racing insert of the same unique key: refused
        except NotFound:
            counts["refused"] += 1
        except DeskOpsError:
            counts["refused"] += 1  # e.g. the duplicate check naming the existing record
    store.dispose()
    return counts


def sequential(url: str, count: int) -> None:
    store = Store(url)
    services = build_services(store)
    site = services.master.site_by_code(SYSTEM, SITE_CODE)
    today = store.clock.today(site.timezone)
    print("ready", flush=True)
    for n in range(count):
        record_id = new_id()
        raw = {
            "date": (today - timedelta(days=n % 30)).isoformat(),
            "material": MATERIALS[n % len(MATERIALS)],
            "quantity": f"{1 + n % 97}.5",
        }
        services.records.create(SYSTEM, Module.DISPATCH, site.id, raw, record_id=record_id)
        sys.stdout.write(record_id + "\n")
        sys.stdout.flush()
    store.dispose()


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "mixed":
        print(json.dumps(mixed(sys.argv[2], float(sys.argv[3]), int(sys.argv[4]))), flush=True)
    else:
        sequential(sys.argv[2], int(sys.argv[3]))
