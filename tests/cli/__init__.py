"""Tests of the nbtrack command line (a package, so its helper modules import relatively)."""
