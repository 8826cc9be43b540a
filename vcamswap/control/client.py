"""`vcamswap ctl`'s side of the control API."""

from __future__ import annotations

import http.client
import json
from typing import Any

from vcamswap.errors import VCamSwapError
from vcamswap.i18n import _


class ControlClient:
    def __init__(self, port: int, token: str | None, timeout: float = 5.0) -> None:
        self._port = port
        self._token = token
        self._timeout = timeout

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        if not self._token:
            raise VCamSwapError(
                _(
                    "no control token found: is a VCamSwap daemon running for this user? "
                    "Start it with `vcamswap run`"
                )
            )
        connection = http.client.HTTPConnection("127.0.0.1", self._port, timeout=self._timeout)
        payload = json.dumps(body or {}).encode() if method == "POST" else None
        headers = {"Authorization": f"Bearer {self._token}", "Content-Type": "application/json"}
        try:
            connection.request(method, path, body=payload, headers=headers)
            response = connection.getresponse()
            data = json.loads(response.read() or b"{}")
        except ConnectionRefusedError as exc:
            raise VCamSwapError(
                _(
                    "no VCamSwap daemon is running on 127.0.0.1:{port}; start it with "
                    "`vcamswap run`"
                ).format(port=self._port)
            ) from exc
        except (OSError, ValueError) as exc:
            raise VCamSwapError(
                _("the daemon on 127.0.0.1:{port} did not answer properly: {error}").format(
                    port=self._port, error=exc
                )
            ) from exc
        finally:
            connection.close()
        if response.status != 200:
            raise VCamSwapError(str(data.get("error", f"HTTP {response.status}")))
        result: dict[str, Any] = data
        return result
