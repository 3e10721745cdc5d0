"""The cart MCP server: per-user carts, two-phase checkout and orders (SQLite), product facts from the catalog."""
