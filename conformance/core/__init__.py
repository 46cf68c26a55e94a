"""Basics of every layer (waits, phases, how a check ends, transient API errors); imports no other svc_conformance module."""
