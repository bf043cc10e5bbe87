"""The ledger, source of truth for spend: records, journal, writer, reads, reconciliation."""
