"""Every API schema derives from the base that refuses control characters and bounds dates and
integers: a schema that does not would let that input through to the database again."""

import importlib
import inspect
import pkgutil

import marshmallow

import server.schemas
from server.schemas.common import Schema


def test_every_schema_derives_from_the_common_base():
    schemas = []
    for module_info in pkgutil.iter_modules(server.schemas.__path__):
        module = importlib.import_module(f"server.schemas.{module_info.name}")
        schemas += [
            cls
            for _, cls in inspect.getmembers(module, inspect.isclass)
            if issubclass(cls, marshmallow.Schema) and cls.__module__ == module.__name__ and cls is not Schema
        ]
    assert len(schemas) > 50
    assert [cls.__qualname__ for cls in schemas if not issubclass(cls, Schema)] == []
