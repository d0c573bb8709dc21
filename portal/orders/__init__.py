"""Orders the stores' mini-programs report (paid, refunded), with who brought and who serves the
buyer, and the append-only commission ledger they yield."""
