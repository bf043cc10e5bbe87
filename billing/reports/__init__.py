"""Reports over the ledger: usage, charge lines, FOCUS, chargeback statements."""
