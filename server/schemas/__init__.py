"""Marshmallow schemas: the shapes the API accepts and returns."""
