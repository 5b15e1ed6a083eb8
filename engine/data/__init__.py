"""Data sets: readers, the synthetic fraud generator, splits, sampling and augmentation.

The entry point is :func:`load_dataset` (reader -> split -> standardise -> augment).
"""

from engine.data.augment import AUGMENTATIONS, augment
from engine.data.pipeline import (DATASETS, RNG_PURPOSES, Splits, data_rng, fit_standardization,
                                  load_dataset, read_features, standardize)
from engine.data.sampling import SAMPLINGS, Sampler, make_sampler
from engine.data.tabular import check_columns, dataset_columns

__all__ = [
    "AUGMENTATIONS", "DATASETS", "RNG_PURPOSES", "SAMPLINGS", "Sampler", "Splits", "augment",
    "check_columns", "data_rng", "dataset_columns", "fit_standardization", "load_dataset",
    "make_sampler", "read_features", "standardize",
]
