"""Shared test worlds: the fixtures and builders more than one folder's tests use.

Each module builds one world and says which in its first line; fixtures that several
folders request are registered once, through `pytest_plugins` in tests/conftest.py.
"""
