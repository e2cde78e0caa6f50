"""The REST API: a FastAPI app over the Promethium library (routers -> services -> repositories).

``create_app()`` builds it; ``uvicorn --factory promethium.api:create_app`` serves it.
"""

from promethium.api.app import API_PREFIX, create_app
from promethium.api.settings import ApiSettings, get_api_settings

__all__ = ["API_PREFIX", "ApiSettings", "create_app", "get_api_settings"]
