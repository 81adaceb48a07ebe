"""`kejibang validate`: Rasa's own data validation, held to zero warnings.

Rasa cannot see responses that custom actions send (``response="utter_..."``) and warns that they
are unused. This check reads those names from the actions, accepts exactly those warnings, and
fails on every other warning, on any response an action names that the domain lacks, and on
Rasa's own errors.
"""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path

from kejibang.settings import PROJECT_ROOT

_RESPONSE_IN_ACTIONS = re.compile(r"""["'](utter_[a-z0-9_]+)["']""")
_UNUSED = re.compile(r"The utterance '([a-z0-9_]+)' is not used in any story or rule")


def responses_sent_by_actions(actions_dir: Path = PROJECT_ROOT / "actions") -> set[str]:
    """Every response name that appears in the custom actions' code."""
    return {name for path in actions_dir.glob("*.py") for name in _RESPONSE_IN_ACTIONS.findall(path.read_text())}


def validate() -> list[str]:
    """Problems found (empty when clean); Rasa's own errors exit the process as in `rasa data validate`."""
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    from rasa.cli.utils import validate_files
    from rasa.shared.importers.importer import TrainingDataImporter

    importer = TrainingDataImporter.load_from_dict(
        config_path=str(PROJECT_ROOT / "config.yml"), domain_path=str(PROJECT_ROOT / "domain"),
        training_data_paths=[str(PROJECT_ROOT / "nlu"), str(PROJECT_ROOT / "stories")])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        validate_files(fail_on_warnings=False, max_history=None, importer=importer)
    from rasa.utils.common import EXPECTED_WARNINGS

    domain = importer.get_domain()
    from_actions = responses_sent_by_actions()
    asked_by_forms = {f"utter_ask_{slot}" for form in domain.forms.values() for slot in form["required_slots"]}
    problems = [f"action sends '{name}', which the domain does not define"
                for name in sorted(from_actions - set(domain.responses))]
    for warning in caught:
        text = str(warning.message)
        unused = _UNUSED.search(text)
        if unused and unused.group(1) in from_actions | asked_by_forms:
            continue
        if any(issubclass(warning.category, kind) and re.match(pattern, text) for kind, pattern in EXPECTED_WARNINGS):
            continue
        if issubclass(warning.category, (DeprecationWarning, PendingDeprecationWarning, FutureWarning)):
            continue
        problems.append(text.splitlines()[0])
    return problems
