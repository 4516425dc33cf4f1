"""ORM models of the scoring service."""

from libs.common.db import ServiceBase, new_metadata
from libs.common.messaging import messaging_tables


class Base(ServiceBase):
    __abstract__ = True
    metadata = new_metadata()


MESSAGING = messaging_tables(Base.metadata)
