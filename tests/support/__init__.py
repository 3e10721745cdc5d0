"""Test helpers shared by several test modules (stub servers, in-memory sources)."""
