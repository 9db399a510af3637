"""The platform finance console: ledger explorer, transactions, trial balance, bank top-ups, credit lines."""
