"""Shared test worlds: the fixtures and builders more than one service's tests use."""
