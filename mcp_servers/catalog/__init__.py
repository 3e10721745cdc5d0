"""The catalog MCP server: a seeded (or imported) fashion catalog on LanceDB with hybrid search.

Modules: `models` (Product and errors, no heavy imports), `vocab` (colours, sizes, subcategories),
`seed` (deterministic demo catalog), `images` (garment cut-outs), `store` (LanceDB search and stock),
`snapshot` (search filters and the in-memory vectors behind exact vector search), `importers` (CSV,
JSON Lines, Online Boutique), `server` (FastMCP tools).
"""
