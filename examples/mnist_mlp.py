"""Keras's mnist_mlp example in shenjing: Dense 512-512 with dropout on MNIST (Keras reports
98.40% test accuracy after 20 epochs).

    SHENJING_DATA=../shared/data python examples/mnist_mlp.py [--epochs 20] [--seeds 0 1 2]

Prints the test accuracy of each seed and their mean (recorded in benchmarks/RESULTS.md).
"""

from __future__ import annotations

import _seeds  # examples/_seeds.py, beside this file

import shenjing as tf


def run(epochs: int, verbose: int) -> float:
    (x_train, y_train), (x_test, y_test) = tf.keras.datasets.mnist.load_data()
    x_train = x_train.reshape(60000, 784).astype("float32") / 255
    x_test = x_test.reshape(10000, 784).astype("float32") / 255
    model = tf.keras.Sequential([
        tf.keras.layers.Dense(512, activation="relu", input_shape=(784,)),
        tf.keras.layers.Dropout(0.2),
        tf.keras.layers.Dense(512, activation="relu"),
        tf.keras.layers.Dropout(0.2),
        tf.keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(loss="sparse_categorical_crossentropy", optimizer=tf.keras.optimizers.RMSprop(),
                  metrics=["accuracy"])
    return _seeds.fit_and_score(model, (x_train, y_train), (x_test, y_test), epochs, verbose)


if __name__ == "__main__":
    _seeds.run_script(lambda: _seeds.main(run, __doc__, epochs=20))
