"""Write the API's OpenAPI schema to a file, no server needed: ``python scripts/dump_openapi.py out.json``."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path


def main(out: str) -> None:
    from promethium.api.app import create_app
    from promethium.api.settings import ApiSettings

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(ApiSettings(data_dir=Path(tmp), web_enabled=False))
        schema = app.openapi()
    Path(out).write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "frontend/openapi.json")
