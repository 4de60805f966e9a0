"""``keras.preprocessing``: ``sequence.pad_sequences``, ``image_dataset_from_directory``,
``text_dataset_from_directory`` and ``timeseries_dataset_from_array``
under the names Keras code imports them by (they live in ``shenjing.data``)."""

from . import sequence


def __getattr__(name: str):
    if name == "image_dataset_from_directory":  # Pillow and threads: loaded on first use
        from ..data.image_folder import image_dataset_from_directory

        return image_dataset_from_directory
    if name == "text_dataset_from_directory":
        from ..data.text_folder import text_dataset_from_directory

        return text_dataset_from_directory
    if name == "timeseries_dataset_from_array":
        from ..data.timeseries import timeseries_dataset_from_array

        return timeseries_dataset_from_array
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["image_dataset_from_directory", "sequence", "text_dataset_from_directory",
           "timeseries_dataset_from_array"]
