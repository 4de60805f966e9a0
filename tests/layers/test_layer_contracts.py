"""The layer contract (output shape, weight counts, JSON config round trip, one training step
changes the trainable weights) on every layer that ``shenjing.layers`` exports."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from layer_contract import run_layer_test

from shenjing import activations
from shenjing import layers as L
from shenjing.data import TreeBatch, Vocabulary, parse_tree

_rng = np.random.default_rng(0)


def _x(*shape: int) -> np.ndarray:
    return _rng.standard_normal(shape).astype(np.float32)


_IDS = np.array([[1, 2, 0, 4, 9], [3, 3, 0, 0, 0]])
_TREES = [parse_tree("(3 (2 It) (4 (2 is) (3 good)))"), parse_tree("(1 (1 bad) (2 film))")]
_TREE_BATCH = TreeBatch.from_trees(_TREES, Vocabulary.from_trees(_TREES))  # 8 nodes, 7 words
_PADDED = _x(2, 4, 3)
_PADDED[0, 2:] = 0.0

# (id, layer factory, input, output shape, trainable, non-trainable[, moving weights change])
CASES = [
    ("dense", lambda: L.Dense(3), _x(2, 4), (2, 3), 2, 0),
    ("dense_relu_no_bias", lambda: L.Dense(3, activation="relu", use_bias=False),
     _x(4, 4), (4, 3), 1, 0),
    ("dense_3d", lambda: L.Dense(3, kernel_regularizer="l2"), _x(2, 5, 4), (2, 5, 3), 2, 0),
    ("activation", lambda: L.Activation("tanh"), _x(2, 4), (2, 4), 0, 0),
    ("relu", lambda: L.ReLU(), _x(2, 4), (2, 4), 0, 0),
    ("identity", lambda: L.Identity(), _x(2, 4), (2, 4), 0, 0),
    ("softmax_two_axes", lambda: L.Softmax(axis=[1, 2]), _x(2, 3, 4), (2, 3, 4), 0, 0),
    ("elu", lambda: L.ELU(0.5), _x(2, 4), (2, 4), 0, 0),
    ("prelu_shared", lambda: L.PReLU("ones", shared_axes=[1, 2]), _x(2, 3, 3, 4),
     (2, 3, 3, 4), 1, 0),
    ("gaussian_noise", lambda: L.GaussianNoise(0.1, seed=1), _x(2, 4), (2, 4), 0, 0),
    ("gaussian_dropout", lambda: L.GaussianDropout(0.2, seed=1), _x(2, 4), (2, 4), 0, 0),
    ("alpha_dropout", lambda: L.AlphaDropout(0.2, seed=1), _x(2, 4), (2, 4), 0, 0),
    ("einsum_dense", lambda: L.EinsumDense("abc,cde->abde", (None, 2, 3), bias_axes="de"),
     _x(2, 5, 4), (2, 5, 2, 3), 2, 0),
    ("activity_regularization", lambda: L.ActivityRegularization(l2=0.01), _x(2, 4), (2, 4),
     0, 0),
    ("permute", lambda: L.Permute((2, 1)), _x(2, 3, 4), (2, 4, 3), 0, 0),
    ("repeat_vector", lambda: L.RepeatVector(3), _x(2, 4), (2, 3, 4), 0, 0),
    ("zero_padding1d", lambda: L.ZeroPadding1D((1, 2)), _x(2, 3, 4), (2, 6, 4), 0, 0),
    ("cropping1d", lambda: L.Cropping1D((0, 2)), _x(2, 5, 4), (2, 3, 4), 0, 0),
    ("up_sampling1d", lambda: L.UpSampling1D(3), _x(2, 3, 4), (2, 9, 4), 0, 0),
    ("lambda_builtin", lambda: L.Lambda(activations.softplus), _x(2, 4), (2, 4), 0, 0),
    ("leaky_relu", lambda: L.LeakyReLU(0.1), _x(2, 4), (2, 4), 0, 0),
    ("flatten", lambda: L.Flatten(), _x(2, 3, 4), (2, 12), 0, 0),
    ("reshape", lambda: L.Reshape((4, 3)), _x(2, 12), (2, 4, 3), 0, 0),
    ("reshape_minus_one", lambda: L.Reshape((-1, 2)), _x(2, 12), (2, 6, 2), 0, 0),
    ("dropout", lambda: L.Dropout(0.5, seed=1), _x(2, 4), (2, 4), 0, 0),
    ("spatial_dropout1d", lambda: L.SpatialDropout1D(0.5, seed=1), _x(2, 5, 4), (2, 5, 4), 0, 0),
    ("spatial_dropout2d", lambda: L.SpatialDropout2D(0.3, seed=1), _x(2, 3, 3, 4),
     (2, 3, 3, 4), 0, 0),
    ("zero_padding2d", lambda: L.ZeroPadding2D(((1, 0), 2)), _x(2, 3, 4, 2), (2, 4, 8, 2), 0, 0),
    ("cropping2d", lambda: L.Cropping2D((1, (0, 2))), _x(2, 4, 5, 2), (2, 2, 3, 2), 0, 0),
    ("up_sampling2d", lambda: L.UpSampling2D((2, 3)), _x(2, 3, 2, 2), (2, 6, 6, 2), 0, 0),
    ("up_sampling2d_bilinear", lambda: L.UpSampling2D(interpolation="bilinear"),
     _x(2, 3, 2, 2), (2, 6, 4, 2), 0, 0),
    ("time_distributed_dense", lambda: L.TimeDistributed(L.Dense(3)), _x(2, 4, 5), (2, 4, 3),
     2, 0),
    ("time_distributed_conv2d", lambda: L.TimeDistributed(L.Conv2D(2, 3, activation="relu")),
     _x(2, 3, 5, 5, 1), (2, 3, 3, 3, 2), 2, 0),
    ("time_distributed_batch_norm", lambda: L.TimeDistributed(L.BatchNormalization()),
     _x(4, 3, 2), (4, 3, 2), 2, 2, True),
    ("perceptron", lambda: L.Perceptron(2), _x(4, 3), (4, 2), 0, 2),
    ("conv2d", lambda: L.Conv2D(4, 3), _x(2, 7, 7, 3), (2, 5, 5, 4), 2, 0),
    ("conv2d_transpose", lambda: L.Conv2DTranspose(4, 3, strides=2, padding="same",
                                                   activation="relu"),
     _x(2, 3, 3, 2), (2, 6, 6, 4), 2, 0),
    ("conv1d_transpose", lambda: L.Conv1DTranspose(4, 3, strides=2, padding="same",
                                                   activation="relu"),
     _x(2, 3, 2), (2, 6, 4), 2, 0),
    ("conv3d", lambda: L.Conv3D(4, (3, 2, 2), strides=(1, 2, 1), padding="same", groups=2,
                                activation="relu"), _x(2, 4, 5, 3, 2), (2, 4, 3, 3, 4), 2, 0),
    ("max_pooling3d", lambda: L.MaxPooling3D(), _x(2, 4, 4, 4, 3), (2, 2, 2, 2, 3), 0, 0),
    ("average_pooling3d_same", lambda: L.AveragePooling3D(3, strides=2, padding="same"),
     _x(2, 5, 4, 5, 2), (2, 3, 2, 3, 2), 0, 0),
    ("global_average_pooling3d", lambda: L.GlobalAveragePooling3D(), _x(2, 3, 3, 3, 2), (2, 2),
     0, 0),
    ("global_max_pooling3d_keepdims", lambda: L.GlobalMaxPooling3D(keepdims=True),
     _x(2, 3, 3, 3, 2), (2, 1, 1, 1, 2), 0, 0),
    ("zero_padding3d", lambda: L.ZeroPadding3D((1, (0, 2), 0)), _x(2, 2, 3, 4, 2),
     (2, 4, 5, 4, 2), 0, 0),
    ("cropping3d", lambda: L.Cropping3D(((1, 0), 1, 0)), _x(2, 3, 4, 4, 2), (2, 2, 2, 4, 2),
     0, 0),
    ("up_sampling3d", lambda: L.UpSampling3D((1, 2, 3)), _x(2, 2, 2, 2, 2), (2, 2, 4, 6, 2),
     0, 0),
    ("depthwise_conv2d", lambda: L.DepthwiseConv2D(3, depth_multiplier=2, padding="same"),
     _x(2, 5, 5, 3), (2, 5, 5, 6), 2, 0),
    ("separable_conv2d", lambda: L.SeparableConv2D(4, 3, strides=2, activation="relu"),
     _x(2, 7, 7, 3), (2, 3, 3, 4), 3, 0),
    ("conv2d_same_strided", lambda: L.Conv2D(4, (3, 2), strides=2, padding="same"),
     _x(2, 7, 6, 3), (2, 4, 3, 4), 2, 0),
    ("conv2d_dilated", lambda: L.Conv2D(2, 3, dilation_rate=2, activation="relu"),
     _x(2, 8, 8, 1), (2, 4, 4, 2), 2, 0),
    ("max_pooling2d", lambda: L.MaxPooling2D(), _x(2, 6, 6, 3), (2, 3, 3, 3), 0, 0),
    ("average_pooling2d_same", lambda: L.AveragePooling2D(3, strides=2, padding="same"),
     _x(2, 7, 7, 2), (2, 4, 4, 2), 0, 0),
    ("global_average_pooling2d", lambda: L.GlobalAveragePooling2D(), _x(2, 5, 5, 3), (2, 3),
     0, 0),
    ("global_max_pooling2d_keepdims", lambda: L.GlobalMaxPooling2D(keepdims=True),
     _x(2, 5, 5, 3), (2, 1, 1, 3), 0, 0),
    ("conv1d_causal_dilated", lambda: L.Conv1D(4, 3, padding="causal", dilation_rate=2),
     _x(2, 7, 3), (2, 7, 4), 2, 0),
    ("conv1d_same_strided", lambda: L.Conv1D(4, 3, strides=2, padding="same",
                                             activation="relu"), _x(2, 7, 3), (2, 4, 4), 2, 0),
    ("max_pooling1d", lambda: L.MaxPooling1D(), _x(2, 6, 3), (2, 3, 3), 0, 0),
    ("average_pooling1d_same", lambda: L.AveragePooling1D(3, strides=2, padding="same"),
     _x(2, 7, 2), (2, 4, 2), 0, 0),
    ("global_average_pooling1d", lambda: L.GlobalAveragePooling1D(), _x(2, 5, 3), (2, 3), 0, 0),
    ("global_max_pooling1d_keepdims", lambda: L.GlobalMaxPooling1D(keepdims=True),
     _x(2, 5, 3), (2, 1, 3), 0, 0),
    ("batch_normalization", lambda: L.BatchNormalization(), _x(8, 3), (8, 3), 2, 2, True),
    ("batch_normalization_images", lambda: L.BatchNormalization(momentum=0.9),
     _x(4, 3, 3, 2), (4, 3, 3, 2), 2, 2, True),
    ("batch_normalization_no_center", lambda: L.BatchNormalization(center=False), _x(8, 3),
     (8, 3), 1, 2, True),
    ("layer_normalization", lambda: L.LayerNormalization(), _x(2, 5), (2, 5), 2, 0),
    ("layer_normalization_two_axes", lambda: L.LayerNormalization(axis=[1, 2]),
     _x(2, 3, 4), (2, 3, 4), 2, 0),
    ("unit_normalization", lambda: L.UnitNormalization(), _x(2, 5), (2, 5), 0, 0),
    ("group_normalization", lambda: L.GroupNormalization(2), _x(2, 3, 3, 4), (2, 3, 3, 4), 2, 0),
    ("group_normalization_channels_first", lambda: L.GroupNormalization(-1, axis=1),
     _x(2, 4, 5), (2, 4, 5), 2, 0),
    ("rms_normalization", lambda: L.RMSNormalization(), _x(2, 3, 5), (2, 3, 5), 1, 0),
    ("unit_normalization_two_axes", lambda: L.UnitNormalization(axis=[1, 2]), _x(2, 3, 4),
     (2, 3, 4), 0, 0),
    ("embedding", lambda: L.Embedding(10, 4), _IDS, (2, 5, 4), 1, 0),
    ("embedding_mask_zero", lambda: L.Embedding(10, 4, mask_zero=True), _IDS, (2, 5, 4), 1, 0),
    ("masking", lambda: L.Masking(), _PADDED, (2, 4, 3), 0, 0),
    ("add", lambda: L.Add(), [_x(2, 3), _x(2, 3)], (2, 3), 0, 0),
    ("subtract", lambda: L.Subtract(), [_x(2, 3), _x(2, 3)], (2, 3), 0, 0),
    ("multiply", lambda: L.Multiply(), [_x(2, 3), _x(2, 3)], (2, 3), 0, 0),
    ("average", lambda: L.Average(), [_x(2, 3), _x(2, 3), _x(2, 3)], (2, 3), 0, 0),
    ("maximum", lambda: L.Maximum(), [_x(2, 3), _x(2, 3)], (2, 3), 0, 0),
    ("minimum", lambda: L.Minimum(), [_x(2, 3), _x(2, 3)], (2, 3), 0, 0),
    ("concatenate", lambda: L.Concatenate(axis=1), [_x(2, 3), _x(2, 4)], (2, 7), 0, 0),
    ("multiply_broadcast", lambda: L.Multiply(), [_x(2, 4, 4, 3), _x(2, 1, 1, 3)],
     (2, 4, 4, 3), 0, 0),
    ("dot", lambda: L.Dot(axes=(1, 2), normalize=True), [_x(2, 3, 4), _x(2, 5, 3)], (2, 4, 5),
     0, 0),
    ("attention_scaled_key", lambda: L.Attention(use_scale=True),
     [_x(2, 3, 4), _x(2, 5, 6), _x(2, 5, 4)], (2, 3, 6), 1, 0),
    ("attention_concat", lambda: L.Attention(score_mode="concat", dropout=0.1, seed=1),
     [_x(2, 3, 4), _x(2, 5, 4)], (2, 3, 4), 1, 0),
    ("additive_attention", lambda: L.AdditiveAttention(), [_x(2, 3, 4), _x(2, 5, 4)],
     (2, 3, 4), 1, 0),
    ("normalization", lambda: L.Normalization(mean=[0.5, 1.0, 2.0], variance=[1.0, 4.0, 0.25]),
     _x(4, 3), (4, 3), 0, 2),
    ("rescaling", lambda: L.Rescaling(1 / 255, offset=-0.5), _x(2, 4, 4, 3), (2, 4, 4, 3), 0, 0),
    ("random_flip", lambda: L.RandomFlip(seed=1), _x(2, 4, 4, 3), (2, 4, 4, 3), 0, 0),
    ("random_rotation", lambda: L.RandomRotation(0.1, seed=1), _x(2, 4, 4, 3), (2, 4, 4, 3),
     0, 0),
    ("random_zoom", lambda: L.RandomZoom(0.2, seed=1), _x(2, 4, 4, 3), (2, 4, 4, 3), 0, 0),
    ("resizing", lambda: L.Resizing(3, 5), _x(2, 4, 4, 3), (2, 3, 5, 3), 0, 0),
    ("random_crop_padded", lambda: L.RandomCrop(3, 2, seed=1, padding=1), _x(2, 4, 4, 3),
     (2, 3, 2, 3), 0, 0),
    ("simple_rnn", lambda: L.SimpleRNN(3, activation="relu"), _x(2, 4, 3), (2, 3), 3, 0),
    ("lstm_sequences", lambda: L.LSTM(3, return_sequences=True, dropout=0.2, seed=1),
     _x(2, 4, 3), (2, 4, 3), 3, 0),
    ("rnn_stacked_cells", lambda: L.RNN([L.LSTMCell(3), L.GRUCell(2, reset_after=False)]),
     _x(2, 4, 3), (2, 2), 6, 0),
    ("gru_backwards", lambda: L.GRU(3, go_backwards=True, use_bias=False), _x(2, 4, 3), (2, 3),
     2, 0),
    ("bidirectional", lambda: L.Bidirectional(L.GRU(2, return_sequences=True)), _x(2, 4, 3),
     (2, 4, 4), 6, 0),
    ("bidirectional_rnn_cell", lambda: L.Bidirectional(L.RNN(
        L.SimpleRNNCell(2, dropout=0.2, recurrent_dropout=0.2, seed=1), return_sequences=True)),
     _x(2, 4, 3), (2, 4, 4), 6, 0),
    ("recursive_nn", lambda: L.RecursiveNN(7, 3, 5), _TREE_BATCH, (8, 5), 5, 0),
    ("rntn", lambda: L.RNTN(7, 3, 5), _TREE_BATCH, (8, 5), 6, 0),
    ("tree_lstm", lambda: L.TreeLSTM(7, 3, 5, embedding_dim=2), _TREE_BATCH, (8, 5), 7, 0),
    ("string_lookup_count", lambda: L.StringLookup(vocabulary=["a", "b"], output_mode="count"),
     np.array([["a", "z"], ["b", "b"]]), (2, 3), 0, 0),  # 'int' mode is int64: lookup tests
    ("string_lookup_tf_idf", lambda: L.StringLookup(vocabulary=["a", "b"], idf_weights=[0.5, 2],
                                                    output_mode="tf_idf"),
     np.array([["a", "z"], ["b", "b"]]), (2, 3), 0, 0),
    ("integer_lookup_multi_hot", lambda: L.IntegerLookup(vocabulary=[3, 7],
                                                         output_mode="multi_hot"),
     np.array([[3, 9], [7, 7]]), (2, 3), 0, 0),
    ("category_encoding", lambda: L.CategoryEncoding(4), np.array([[0, 3], [1, 1]]), (2, 4),
     0, 0),
    ("text_vectorization_count", lambda: L.TextVectorization(vocabulary=["a", "b"],
                                                             output_mode="count"),
     np.array(["A z", "b b"]), (2, 3), 0, 0),
    ("tree_lstm_child_sum", lambda: L.TreeLSTM(7, 3, 5, variant="child_sum"), _TREE_BATCH,
     (8, 5), 9, 0),
]

# Cells are called as cell(inputs, states); test_recurrent_layers.py checks them step by step.
# InputLayer is built when Input() makes it; tests/models/test_model_api.py checks it.
CELLS = {L.SimpleRNNCell, L.LSTMCell, L.GRUCell, L.StackedRNNCells}
NOT_CONTRACT = CELLS | {L.InputLayer}


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_layer_contract_holds(case):
    _, make, data, out_shape, n_trainable, n_non_trainable, *moving = case
    run_layer_test(make(), data, out_shape, n_trainable, n_non_trainable,
                   moving_weights_change=bool(moving and moving[0]))


def test_layer_contract_covers_every_exported_layer():
    exported = {cls for cls in vars(L).values()
                if inspect.isclass(cls) and issubclass(cls, L.Layer) and cls is not L.Layer}
    tested = {type(c[1]()) for c in CASES}
    assert exported - tested - NOT_CONTRACT == set()
