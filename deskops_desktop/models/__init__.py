"""Qt-free domain model: tables, reference data, validation rules and ledger arithmetic."""
