"""Persistence: the SQLite store owns every table, migration, read and write."""

from storage.store import Store

__all__ = ["Store"]
