"""`kejibang rasa serve`: one Rasa server of the production profile, `rasa run` with its flags fixed.

Every Rasa server (systemd's ``kejibang-rasa@PORT``, the production test, the capacity bench) starts
here, so the flags that make it safe are written once: the HTTP API on loopback only and behind
RASA_TOKEN; the model of the current training inputs, from KEJIBANG_MODEL_DIR and nowhere else; the
REST channel behind KEJIBANG_INTERNAL_SECRET (deploy/credentials.yml); the shared tracker store, the Redis lock store and the action
endpoint (deploy/endpoints.production.yml). Rasa's own CLI runs inside this process with those
arguments, so the token stays out of the process list, where ``rasa run --auth-token …`` would show it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from core.texts import Operator
from kejibang import model
from kejibang.internal import MISSING
from kejibang.launcher import LaunchError, process_environment
from kejibang.settings import PROJECT_ROOT, Settings
from rasa_plugins.model_loading import INTER_OP, INTRA_OP

DEPLOY = PROJECT_ROOT / "deploy"
ENDPOINTS = DEPLOY / "endpoints.production.yml"
CREDENTIALS = DEPLOY / "credentials.yml"


def rasa_run_arguments(settings: Settings, port: int, model_path: Path) -> list[str]:
    """The `rasa run` arguments of a production server on 127.0.0.1:port."""
    return ["run", "--enable-api", "--interface", "127.0.0.1", "--port", str(port),
            "--auth-token", settings.rasa_token, "--model", str(model_path),
            "--endpoints", str(ENDPOINTS), "--credentials", str(CREDENTIALS)]


def current_model(settings: Settings) -> Path:
    """The model of the current training inputs; never trained here (two servers would train at once)."""
    path = model.model_path(settings.model_dir)
    if not model.is_usable(path):
        raise LaunchError(Operator.NO_CURRENT_MODEL.format(path=path))
    return path


def serve(settings: Settings, port: int) -> None:
    """Run one Rasa server until it is stopped; refuses to start with an open API or without the model."""
    if not settings.rasa_token:
        raise LaunchError(Operator.RASA_TOKEN_MISSING)
    if not settings.internal_secret:  # the REST channel and the action endpoint need it (deploy/)
        raise LaunchError(MISSING)
    arguments = rasa_run_arguments(settings, port, current_model(settings))
    process_environment(settings)
    # endpoints.production.yml reads these; the tracker URL gets the same default as everywhere else
    os.environ["KEJIBANG_TRACKER_DB"] = settings.tracker_db
    for variable in (INTRA_OP, INTER_OP):  # one thread per op, as every in-process load (model_loading.py)
        os.environ.setdefault(variable, "1")
    from rasa.__main__ import main as rasa_main

    from rasa_plugins.action_executor import check_action_results_once_compiled
    from rasa_plugins.graph_order import run_graphs_in_order
    from rasa_plugins.model_loading import build_weights_eagerly
    from rasa_plugins.rules_first import predict_with_rules_first

    check_action_results_once_compiled()  # 30 ms less CPU per action call
    build_weights_eagerly()  # the model loads in seconds, and 0.5 GB smaller
    run_graphs_in_order()  # no dask bookkeeping on every prediction
    predict_with_rules_first()  # TED only where no rule is sure

    sys.argv = ["rasa", *arguments]
    rasa_main()
