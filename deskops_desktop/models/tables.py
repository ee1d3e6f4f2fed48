"""One import that registers every table on ``Base.metadata`` (for Alembic and tests).

A table is registered when its module is imported, so this imports the model modules, not
their classes: a new model module is one line here, and no list of classes has to be kept in
step with the modules.
"""

from deskops_desktop.models import (
    accounts,
    changelog,
    jobs,
    packs,
    records,
    reference,
    stock,
    sync,
)
from deskops_desktop.models.base import Base

MODEL_MODULES = (accounts, changelog, jobs, packs, records, reference, stock, sync)

__all__ = ["MODEL_MODULES", "Base"]
