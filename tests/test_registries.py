"""One registry per kind, and each registry's names are exactly the schema's (schemas/)."""

import pytest

from engine.data import AUGMENTATIONS, DATASETS, SAMPLINGS
from engine.initializers import INITIALIZERS
from engine.layers import LAYERS
from engine.losses import LOSSES
from engine.metrics import HIGHER_IS_BETTER, METRICS
from engine.optimizers import OPTIMIZERS
from engine.schedules import SCHEDULES
from engine.spec import schema_names

REGISTRIES = {
    "layers": LAYERS, "initializers": INITIALIZERS, "optimizers": OPTIMIZERS,
    "schedules": SCHEDULES, "losses": LOSSES, "datasets": DATASETS, "samplings": SAMPLINGS,
    "augmentations": AUGMENTATIONS, "metrics": METRICS,
}


@pytest.mark.parametrize("kind", sorted(REGISTRIES))
def test_registry_names_equal_the_schema_names(kind):
    assert set(REGISTRIES[kind]) == schema_names()[kind]


def test_every_registry_kind_is_covered():
    assert set(schema_names()) == set(REGISTRIES)


def test_every_metric_says_which_way_is_better():
    assert set(HIGHER_IS_BETTER) == set(METRICS)
    assert HIGHER_IS_BETTER["loss"] is False and HIGHER_IS_BETTER["f1"] is True
