"""Running the simulator under uvicorn."""

from __future__ import annotations

import uvicorn

from hygie_simulator.app import SimulatorApp, create_simulator_app
from hygie_simulator.config import SimulatorConfig


def uvicorn_config(app: SimulatorApp, host: str, port: int) -> uvicorn.Config:
    """The uvicorn settings vLLM's server uses that matter here: httptools, uvloop, 5 s
    keep-alive; access log off and warnings only, so load tests are not slowed by logging."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        loop="uvloop",
        http="httptools",
        ws="none",
        lifespan="on",
        log_level="warning",
        access_log=False,
        timeout_keep_alive=5,
    )


def serve_simulator(config: SimulatorConfig, host: str, port: int) -> None:
    """Serve the simulator on host:port until interrupted (blocking)."""
    uvicorn.Server(uvicorn_config(create_simulator_app(config), host, port)).run()
