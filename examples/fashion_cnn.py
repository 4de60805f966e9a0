"""A small CNN on Fashion-MNIST: Keras's mnist_convnet (Conv 32 -> pool -> Conv 64 -> pool)
with a Dense 128 hidden layer before the dropout (the plain mnist_convnet levels off near 90%
on Fashion-MNIST: 90.26% for seed 0 after 15 epochs).

    SHENJING_DATA=../shared/data python examples/fashion_cnn.py [--epochs 15] [--seeds 0 1 2]

Prints the test accuracy of each seed and their mean (recorded in benchmarks/RESULTS.md).
"""

from __future__ import annotations

import _seeds  # examples/_seeds.py, beside this file

import shenjing as tf


def run(epochs: int, verbose: int) -> float:
    (x_train, y_train), (x_test, y_test) = tf.keras.datasets.fashion_mnist.load_data()
    x_train = x_train[..., None].astype("float32") / 255
    x_test = x_test[..., None].astype("float32") / 255
    layers = tf.keras.layers
    model = tf.keras.Sequential([
        layers.Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)),
        layers.MaxPooling2D((2, 2)),
        layers.Conv2D(64, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Flatten(),
        layers.Dense(128, activation="relu"),
        layers.Dropout(0.5),
        layers.Dense(10),
    ])
    model.compile(optimizer="adam",
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return _seeds.fit_and_score(model, (x_train, y_train), (x_test, y_test), epochs, verbose)


if __name__ == "__main__":
    _seeds.run_script(lambda: _seeds.main(run, __doc__, epochs=15))
