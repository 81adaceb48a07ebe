"""The custom actions run inside the process that holds the model: Rasa's action endpoint, without the HTTP.

Rasa calls ``EndpointConfig.request`` for every custom action and form validation; this endpoint hands the
same JSON body to rasa-sdk's ``ActionExecutor`` (the code the action server runs) and answers what that
server would. Why: the embedded default spent ~37 ms of wall time and ~65 ms of CPU (both processes) per
turn on the loopback round trip: a new HTTP session per call, the tracker and the domain serialised,
parsed by Sanic and serialised back. One process also means one exchange (one matcher) and no second
Python with TensorFlow-free but jieba-loaded memory.

Rasa's error contract is kept: a rejection answers like HTTP 400 (Rasa then lets other policies
choose), an unknown action like 404.

Rasa also checks every action's answer against its response schema with ``jsonschema.validate``, which
first checks the schema itself against the JSON-Schema metaschema: 30 ms of CPU per action call, a third
of a turn (``kejibang bench turn``'s flame graph). ``check_action_results_once_compiled`` keeps the same
check with the schema compiled once, by jsonschema-rs (microseconds; Python's jsonschema still walks the
whole schema, ~6 ms for a read-back with its expert cards); an answer it rejects is worded by Python's
jsonschema, as Rasa words it. This endpoint and every production Rasa server apply it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.utils.endpoints import ClientResponseError, EndpointConfig
from rasa_sdk.executor import ActionExecutor
from rasa_sdk.interfaces import ActionExecutionRejection, ActionNotFoundException

ACTIONS_PACKAGE = "actions"


class InProcessActions(EndpointConfig):
    """An action endpoint whose "requests" run the actions package in this process."""

    def __init__(self, package: str = ACTIONS_PACKAGE) -> None:
        super().__init__(url=f"in-process:{package}")
        check_action_results_once_compiled()
        self.executor = ActionExecutor()
        self.executor.register_package(package)

    @staticmethod
    def warm() -> None:
        """Open the actions' exchange and build its matcher now (the action server does the same before
        it answers): otherwise the first farmer's read-back after a start waits seconds for it."""
        from actions.services import exchange
        from exchange.api import warm

        warm(exchange())

    async def request(self, method: str = "post", subpath: str | None = None,
                      content_type: str | None = "application/json", compress: bool = False,
                      **kwargs: Any) -> Any:
        """Run the action named in ``json`` and return the body the action server would have sent.

        The result goes through JSON once, as it would over HTTP: an action may hand back tuples or
        other values that Rasa's response schema and tracker store expect as plain JSON.
        """
        try:
            result = await self.executor.run(kwargs["json"])
        except (ActionExecutionRejection, ActionNotFoundException) as error:
            status = 400 if isinstance(error, ActionExecutionRejection) else 404
            body = json.dumps({"error": error.message, "action_name": error.action_name})
            raise ClientResponseError(status, type(error).__name__, body) from error
        return json.loads(json.dumps(result)) if result is not None else None


@lru_cache(maxsize=1)
def _valid() -> Callable[[Any], bool]:
    """The response schema compiled by jsonschema-rs: whether an answer is valid, in microseconds."""
    import jsonschema_rs

    return jsonschema_rs.validator_for(RemoteAction.action_response_format_spec()).is_valid


@lru_cache(maxsize=1)
def _response_validator() -> Any:
    schema = RemoteAction.action_response_format_spec()
    validator = validator_for(schema)
    validator.check_schema(schema)  # once, not per action
    return validator(schema)


def _validate_compiled(action: RemoteAction, result: dict[str, Any]) -> bool:
    """Rasa's ``_validate_action_result``, same errors, without re-checking the schema each time."""
    if _valid()(result):
        return True
    error = best_match(_response_validator().iter_errors(result))
    if error is not None:
        error.message += ". Failed to validate Action server response from API."
        raise error
    return True


def check_action_results_once_compiled() -> None:
    """Make every RemoteAction (in-process or over HTTP) validate answers with the compiled schema."""
    RemoteAction._validate_action_result = _validate_compiled
