"""Layers (Keras style): ``__init__`` stores config, ``build`` makes weights on the first call,
``call`` computes with ``shenjing.functional``. No layer holds gradient code."""

from .conv import Conv2D
from .core import Activation, Dense, Dropout, Flatten, LeakyReLU, Perceptron, ReLU, Reshape
from .embedding import Embedding, Masking
from .input_layer import Input, SymbolicTensor
from .layer import InputSpec, Layer
from .merge import Add, Average, Concatenate, Maximum, Minimum, Multiply, Subtract
from .normalization import BatchNormalization, LayerNormalization
from .parameter import Parameter
from .pooling import (
    AveragePooling2D,
    GlobalAveragePooling2D,
    GlobalMaxPooling2D,
    MaxPooling2D,
)
from .preprocessing import Normalization, RandomCrop, RandomFlip, Rescaling
from .recurrent import GRU, LSTM, Bidirectional, GRUCell, LSTMCell, SimpleRNN, SimpleRNNCell
from .recursive import RNTN, RecursiveNN, TreeLSTM

Convolution2D, MaxPool2D, AvgPool2D = Conv2D, MaxPooling2D, AveragePooling2D

__all__ = [
    "Activation", "Add", "Average", "AveragePooling2D", "AvgPool2D", "BatchNormalization",
    "Bidirectional", "Concatenate", "Conv2D", "Convolution2D", "Dense", "Dropout", "Embedding",
    "Flatten", "GRU", "GRUCell", "GlobalAveragePooling2D", "GlobalMaxPooling2D", "Input",
    "InputSpec", "LSTM", "LSTMCell", "Layer", "LayerNormalization", "LeakyReLU", "Masking",
    "MaxPool2D",
    "MaxPooling2D", "Maximum", "Minimum", "Multiply", "Normalization", "Parameter", "Perceptron",
    "RNTN", "ReLU", "RandomCrop", "RandomFlip", "RecursiveNN", "Rescaling", "Reshape", "SimpleRNN",
    "SimpleRNNCell", "TreeLSTM",
    "Subtract", "SymbolicTensor",
]
