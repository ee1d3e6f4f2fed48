"""Remote-site sync (filled in below)."""
