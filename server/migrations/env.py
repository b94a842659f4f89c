"""Alembic environment: the URL comes from FieldCheck's settings, the metadata from its models."""

from alembic import context
from sqlalchemy import TypeDecorator

from server.models import Base

config = context.config


def _render_item(type_, obj, autogen_context):
    """Write the application's column types as their plain storage types, so migrations never import them."""
    if type_ == "type" and isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl_instance!r}"
    return False


def run_migrations() -> None:
    connectable = config.attributes["connection"]
    context.configure(
        connection=connectable,
        target_metadata=Base.metadata,
        # SQLite cannot ALTER most things in place; batch mode rebuilds the table instead.
        render_as_batch=connectable.dialect.name == "sqlite",
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
