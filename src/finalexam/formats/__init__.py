"""Parsers of binary package formats, shared by catalogers and unpackers."""
