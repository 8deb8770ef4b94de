"""Domain-specific displays the notebooks show beside the per-check tables (one module per domain)."""
