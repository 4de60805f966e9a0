"""The article's CNN listing (section 4.1) runs on shenjing with only its import line changed:
``import tensorflow as tf`` -> ``import shenjing as tf``.

``tf.keras.datasets.cifar10`` comes with a later issue, so the data-loading line is replaced
by small random uint8 arrays of CIFAR-10's shapes and dtypes (labels (N, 1) uint8); and it
trains for one epoch instead of ten. Every other line is the article's.
"""

from __future__ import annotations

import re
import textwrap

import numpy as np
import pytest

import shenjing

# The listing as the article prints it, with the import line changed and the two substitutions.
LISTING = textwrap.dedent("""\
    import shenjing as tf
    # 定义一个简单的卷积神经网络
    model = tf.keras.Sequential([
    tf.keras.layers.Conv2D(32, (3, 3), activation='relu', input_shape=(32, 32, 3)),
    tf.keras.layers.MaxPooling2D((2, 2)),
    tf.keras.layers.Conv2D(64, (3, 3), activation='relu'),
    tf.keras.layers.MaxPooling2D((2, 2)),
    tf.keras.layers.Conv2D(64, (3, 3), activation='relu'),
    tf.keras.layers.Flatten(),
    tf.keras.layers.Dense(64, activation='relu'),
    tf.keras.layers.Dense(10, activation='softmax')
    ])
    # 编译模型
    model.compile(optimizer='adam',
    loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    metrics=['accuracy'])
    # 加载数据集
    (x_train, y_train), (x_test, y_test) = load_small_random_cifar10()
    # 数据预处理
    x_train, x_test = x_train / 255.0, x_test / 255.0
    # 训练模型
    model.fit(x_train, y_train, epochs=1, validation_data=(x_test, y_test))
    # 模型评估
    test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=2)
    print('测试集损失:', test_loss)
    print('测试集准确率:', test_accuracy)
""")

# What Keras's model.summary() reports for this model: (type, output shape, parameters).
KERAS_SUMMARY = [
    ("Conv2D", "(None, 30, 30, 32)", 896),
    ("MaxPooling2D", "(None, 15, 15, 32)", 0),
    ("Conv2D", "(None, 13, 13, 64)", 18_496),
    ("MaxPooling2D", "(None, 6, 6, 64)", 0),
    ("Conv2D", "(None, 4, 4, 64)", 36_928),
    ("Flatten", "(None, 1024)", 0),
    ("Dense", "(None, 64)", 65_600),
    ("Dense", "(None, 10)", 650),
]


def load_small_random_cifar10(n_train: int = 64, n_test: int = 32):
    """Arrays shaped and typed as ``tf.keras.datasets.cifar10.load_data()`` returns them."""
    rng = np.random.default_rng(0)

    def part(n):
        return (rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8),
                rng.integers(0, 10, (n, 1), dtype=np.uint8))

    return part(n_train), part(n_test)


def _summary_rows(model) -> tuple[list[tuple[str, str, int]], list[str]]:
    lines: list[str] = []
    model.summary(print_fn=lines.append)
    rows = []
    for line in lines:
        m = re.match(r"^\S+ \((\w+)\)\s+(\(.*?\))\s+([\d,]+)\s*$", line)
        if m:
            rows.append((m[1], m[2], int(m[3].replace(",", ""))))
    return rows, lines


def test_the_article_cnn_listing_runs_with_import_shenjing_as_tf(capsys):
    namespace = {"load_small_random_cifar10": load_small_random_cifar10}
    double_softmax = r"applies softmax.*from_logits=True.*softmax is applied twice"
    with pytest.warns(UserWarning, match=double_softmax):
        exec(compile(LISTING, "article_cnn_listing.py", "exec"), namespace)
    out = capsys.readouterr().out

    model = namespace["model"]
    assert isinstance(model, shenjing.Sequential)
    rows, lines = _summary_rows(model)
    assert rows == KERAS_SUMMARY
    assert "Total params: 122,570" in lines and "Trainable params: 122,570" in lines
    assert model.count_params() == 122_570

    # fit showed its progress (verbose 'auto': one line per epoch when not on a terminal) with
    # the validation logs; evaluate printed Keras's verbose=2 line; the listing's own prints
    # follow
    history = model.history.history
    assert set(history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert "Epoch 1/1" in out and "val_accuracy" in out
    assert re.search(r"Evaluate - [\d.]+s - loss: [\d.]+ - accuracy: [\d.]+", out)
    test_loss, test_accuracy = namespace["test_loss"], namespace["test_accuracy"]
    assert f"测试集损失: {test_loss}" in out and f"测试集准确率: {test_accuracy}" in out
    assert np.isfinite(test_loss) and 0.0 <= test_accuracy <= 1.0
    # the validation after the only epoch and the evaluation saw the same model and data
    assert test_loss == pytest.approx(history["val_loss"][0], rel=1e-6)
    assert test_accuracy == history["val_accuracy"][0]

    # x / 255.0 is float64, but the model stays float32
    assert namespace["x_train"].dtype == np.float64
    assert all(w.dtype == np.float32 for w in model.get_weights())
    assert model.predict(namespace["x_test"][:4]).dtype == np.float32


def test_the_listing_without_the_extra_softmax_compiles_silently():
    """The warning's advice (logits out) makes it go away; the parameter count is unchanged."""
    import warnings

    fixed = LISTING.replace("Dense(10, activation='softmax')", "Dense(10)")
    head = fixed[:fixed.index("# 加载数据集")]
    namespace: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        exec(compile(head, "article_cnn_listing_fixed.py", "exec"), namespace)
    assert namespace["model"].count_params() == 122_570
