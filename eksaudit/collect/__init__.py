"""Read-only collection into an evidence folder."""
