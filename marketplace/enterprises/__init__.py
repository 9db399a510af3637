"""Enterprise accounts: brands, their verification, members and roles."""
