"""The committee's public dashboard, served by the gateway: server-rendered pages over the API."""

from services.gateway.web.router import dashboard_router

__all__ = ["dashboard_router"]
