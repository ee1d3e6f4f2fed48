"""DeskOps Desktop: the daily stock ledger for C&D recycling plants.

Layering is one-way: ``models`` (tables, rules) <- ``services`` <- ``export`` / ``views`` / ``cli``.
Only ``views`` (and the composition root ``app``) may import Qt.
"""

__version__ = "0.1.0"
