"""The bundled fraud example, run in full as README's first command runs it: the blog's
augmentation beats the same run without it on the synthetic test split (README quotes the
figures), and the whole seed experiment stays a few-seconds job."""

from pathlib import Path

import pytest

from engine.spec import load
from engine.train import train

EXPERIMENTS = Path(__file__).resolve().parent.parent / "experiments"


@pytest.mark.slow
def test_augmentation_beats_no_augmentation_on_the_test_split():
    with_aug = train(load(EXPERIMENTS / "fraud.yaml"), device="cpu").summary
    without = train(load(EXPERIMENTS / "fraud-no-augmentation.yaml"), device="cpu").summary
    # The network is chosen on the validation split; the test split only reports.
    assert with_aug["selection"] == without["selection"] == "validation"
    f1_with, f1_without = with_aug["best"]["test"]["f1"], without["best"]["test"]["f1"]
    assert f1_with > f1_without + 0.05, (f1_with, f1_without)
    # As in the blog: augmentation buys precision at the 0.9 threshold.
    assert with_aug["best"]["test"]["precision"] > without["best"]["test"]["precision"]
    assert 0.3 < f1_with < 0.95  # hard but learnable
