"""Loading the trained model in seconds, not a minute: its layers are built by one eager loss.

Rasa 3.6 builds a DIET or TED model before reading its weights by fitting it on one example
(``RasaModel.load``). Keras runs that step through ``tf.function``, so TensorFlow first traces and
converts the whole training graph (the loss, the gradients, the optimizer) to run it once and throw
the result away: 35-75 s of a 45-80 s model load on this 2-core machine, for every worker and every
restart, and about 0.5 GB of resident memory kept afterwards. Computing the training loss once, eagerly,
creates the same layers in a second; the trained weights are then read over them, and predictions run
compiled as the model was trained to (``run_eagerly`` from its own config).

No optimizer is built: predictions do not need its state, and Adam's slots, made eagerly, come in
another order than the file lists them (a shape mismatch). A layer the loss did not touch is built
when prediction first uses it and read from the file then (TensorFlow's deferred restoration).

Rasa's TED swallows a ``ValueError`` from loading and carries on untrained, so any failure here falls
back to Rasa's own load, loudly: slow is acceptable, a policy answering zeros is not.
``tests/test_model_loading.py`` checks that every intent, reply and TED probability is the same as
with Rasa's own load. Fine-tuning (training on from a loaded model) keeps Rasa's path.
"""

from __future__ import annotations

import logging
import os
from typing import Any

log = logging.getLogger(__name__)
INTRA_OP, INTER_OP = "TF_INTRA_OP_PARALLELISM_THREADS", "TF_INTER_OP_PARALLELISM_THREADS"
_PATCHED = "kejibang_eager_build"


def build_weights_eagerly() -> None:
    """Make ``RasaModel.load`` build a model's layers with one eager loss (idempotent)."""
    from rasa.utils.tensorflow.models import RasaModel

    if getattr(RasaModel.load, _PATCHED, False):
        return
    stock = RasaModel.load.__func__

    def load(cls: type, model_file_name: str, model_data_example: Any, predict_data_example: Any = None,
             finetune_mode: bool = False, *args: Any, **kwargs: Any) -> Any:
        if not finetune_mode:
            try:
                return _load_built_eagerly(cls, model_file_name, model_data_example, predict_data_example,
                                           *args, **kwargs)
            except Exception:
                log.exception("fast model load failed for %s: loading it as Rasa does (slower)", model_file_name)
        return stock(cls, model_file_name, model_data_example, predict_data_example, finetune_mode, *args, **kwargs)

    setattr(load, _PATCHED, True)
    RasaModel.load = classmethod(load)


def _load_built_eagerly(cls: type, model_file_name: str, model_data_example: Any, predict_data_example: Any,
                        *args: Any, **kwargs: Any) -> Any:
    """Rasa's ``RasaModel.load``, with the layers built by an eager loss instead of a traced fit."""
    from rasa.utils.tensorflow.constants import RUN_EAGERLY
    from rasa.utils.tensorflow.data_generator import RasaBatchDataGenerator

    model = cls(*args, **kwargs)
    model._training = True
    model.batch_loss(RasaBatchDataGenerator(model_data_example, batch_size=1)[0])
    # every variable built must come from the file (a mismatch would answer with random weights); what the
    # file holds beyond them is the optimizer's state and the layers prediction builds later
    model.load_weights(model_file_name).assert_existing_objects_matched().expect_partial()
    model.run_eagerly = kwargs.get("config", {}).get(RUN_EAGERLY)  # predictions compiled, as with Rasa's load
    if predict_data_example:
        model.run_inference(predict_data_example)  # traces the prediction graph now, not on a farmer's turn
    return model


def one_thread_per_op() -> None:
    """Run TensorFlow's ops on one thread in a serving process (``TF_INTRA_OP_PARALLELISM_THREADS`` and
    ``TF_INTER_OP_PARALLELISM_THREADS``, Rasa's own variables, say otherwise).

    A turn's tensors are one sentence: splitting them across cores gains nothing, and TensorFlow's
    default pools (one thread per core) spin while they wait for work, which in `kejibang bench e2e`
    cost a third more CPU per message, taken from the other worker's core. Rasa's command line
    (`kejibang rasa serve`) reads the same variables; in-process loads never did.
    """
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(int(os.environ.get(INTRA_OP, "1")))
        tf.config.threading.set_inter_op_parallelism_threads(int(os.environ.get(INTER_OP, "1")))
    except RuntimeError:  # TensorFlow has already run in this process (a test session): it keeps its pools
        log.debug("TensorFlow's thread pools are already set up; left as they are")


def load_agent(model_path: str, rules_first: bool = True, **endpoints: Any) -> Any:
    """``rasa.core.agent.Agent.load`` with the models' layers built eagerly (every in-process load), its graphs
    run in a remembered order (``rasa_plugins/graph_order.py``), and TED asked only where no rule is sure
    (``rasa_plugins/rules_first.py``; ``rules_first=False`` only to compare)."""
    from rasa.core.agent import Agent

    from rasa_plugins.graph_order import run_graphs_in_order

    one_thread_per_op()
    build_weights_eagerly()
    run_graphs_in_order()
    if rules_first:
        from rasa_plugins.rules_first import predict_with_rules_first

        predict_with_rules_first()
    return Agent.load(model_path, **endpoints)
