"""One import that registers every table on ``Base.metadata`` (for Alembic and tests)."""

from deskops_desktop.models.accounts import User, UserSite
from deskops_desktop.models.base import Base
from deskops_desktop.models.changelog import ChangeLog
from deskops_desktop.models.jobs import ExportAudit, ExportJob
from deskops_desktop.models.packs import ReportPack
from deskops_desktop.models.records import (
    Dispatch,
    EquipmentLog,
    Feed,
    InventoryAdjustment,
    ManpowerLog,
    Production,
    Received,
)
from deskops_desktop.models.reference import (
    ConversionFactor,
    Equipment,
    ManpowerRole,
    Material,
    ProductionTarget,
    Site,
)
from deskops_desktop.models.stock import StockDay
from deskops_desktop.models.sync import (
    SyncAppliedOp,
    SyncAttention,
    SyncChange,
    SyncCursor,
    SyncDownload,
    SyncHorizon,
    SyncLog,
    SyncOutbox,
    SyncRefetch,
    SyncReplica,
    SyncState,
)

__all__ = [
    "Base",
    "ChangeLog",
    "ConversionFactor",
    "Dispatch",
    "Equipment",
    "EquipmentLog",
    "ExportAudit",
    "ExportJob",
    "Feed",
    "InventoryAdjustment",
    "ManpowerLog",
    "ManpowerRole",
    "Material",
    "Production",
    "ProductionTarget",
    "Received",
    "ReportPack",
    "Site",
    "StockDay",
    "SyncAppliedOp",
    "SyncAttention",
    "SyncChange",
    "SyncCursor",
    "SyncDownload",
    "SyncHorizon",
    "SyncLog",
    "SyncOutbox",
    "SyncRefetch",
    "SyncReplica",
    "SyncState",
    "User",
    "UserSite",
]
