"""Tests that are meant to fail, run by tests of the harness in a pytest process of their own.
Their file names don't start with test_, so the suite never collects them itself."""
