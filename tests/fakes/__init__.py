"""Fake upstream servers that speak each backend's real wire format, on loopback."""
