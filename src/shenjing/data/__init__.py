"""Data structures and helpers for feeding models: parsed trees and vocabularies; batching
(``DataLoader``), scalers and splits; image and text folders and tf.data's ``Dataset`` (loaded on
first use)."""

from ..utils import to_categorical
from .loader import DataLoader, TensorDataset
from .preprocessing import MinMaxScaler, StandardScaler, train_test_split
from .tree import Tree, TreeSyntaxError, Vocabulary, parse_tree
from .tree_batch import TreeBatch, binarize

_TF_DATA = ("AUTOTUNE", "Dataset", "INFINITE_CARDINALITY", "TextLineDataset",
            "UNKNOWN_CARDINALITY", "experimental")


def __getattr__(name: str):
    # image and text folders need zipfile (and threads and Pillow): load them on first use
    if name == "image_dataset_from_directory":
        from .image_folder import image_dataset_from_directory

        return image_dataset_from_directory
    if name in _TF_DATA:  # tf.data's Dataset and constants, for Keras code written for TF
        from . import dataset

        return getattr(dataset, name)
    if name == "text_dataset_from_directory":
        from .text_folder import text_dataset_from_directory

        return text_dataset_from_directory
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AUTOTUNE", "DataLoader", "Dataset", "INFINITE_CARDINALITY", "MinMaxScaler", "StandardScaler",
    "TensorDataset", "TextLineDataset",
    "Tree", "TreeBatch", "TreeSyntaxError", "UNKNOWN_CARDINALITY", "Vocabulary", "binarize",
    "experimental", "image_dataset_from_directory", "parse_tree", "text_dataset_from_directory",
    "to_categorical", "train_test_split",
]
