"""ARM state and rules, one module per resource family; no HTTP here."""
