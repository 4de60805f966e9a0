"""Layers (Keras style): ``__init__`` stores config, ``build`` makes weights on the first call,
``call`` computes with ``shenjing.functional``. No layer holds gradient code."""

from .conv import (
    Conv1D,
    Conv1DTranspose,
    Conv2D,
    Conv2DTranspose,
    Conv3D,
    DepthwiseConv2D,
    SeparableConv2D,
)
from .core import (
    Activation,
    AlphaDropout,
    Dense,
    Dropout,
    Flatten,
    Identity,
    InputLayer,
    Lambda,
    LeakyReLU,
    Perceptron,
    ReLU,
    Reshape,
    SpatialDropout1D,
    SpatialDropout2D,
)
from .embedding import Embedding, Masking
from .input_layer import Input, SymbolicTensor
from .layer import InputSpec, Layer
from .merge import (
    Add,
    Average,
    Concatenate,
    Dot,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    add,
    average,
    concatenate,
    dot,
    maximum,
    minimum,
    multiply,
    subtract,
)
from .normalization import (
    BatchNormalization,
    GroupNormalization,
    LayerNormalization,
    RMSNormalization,
    UnitNormalization,
)
from .parameter import Parameter
from .pooling import (
    AveragePooling1D,
    AveragePooling2D,
    AveragePooling3D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalAveragePooling3D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    GlobalMaxPooling3D,
    MaxPooling1D,
    MaxPooling2D,
    MaxPooling3D,
)
from .preprocessing import Normalization, RandomCrop, RandomFlip, Rescaling
from .recurrent import GRU, LSTM, Bidirectional, GRUCell, LSTMCell, SimpleRNN, SimpleRNNCell
from .recursive import RNTN, RecursiveNN, TreeLSTM
from .reshaping import (
    Cropping1D,
    Cropping2D,
    Cropping3D,
    Permute,
    RepeatVector,
    UpSampling1D,
    UpSampling2D,
    UpSampling3D,
    ZeroPadding1D,
    ZeroPadding2D,
    ZeroPadding3D,
)
from .wrappers import TimeDistributed


# Layers loaded on first use (preprocessing, and the less common ones: each module costs import
# time that most programs never need).
def __getattr__(name: str):
    if name in ("CenterCrop", "RandomBrightness", "RandomContrast", "RandomRotation",
                "RandomTranslation", "RandomZoom"):
        from . import augmentation as module
    elif name == "Resizing":
        from . import resizing as module
    elif name in ("RNN", "StackedRNNCells"):
        from . import rnn as module
    elif name in ("ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D"):
        from . import conv_lstm as module
    elif name in ("ELU", "PReLU", "Softmax"):
        from . import activation_layers as module
    elif name in ("ActivityRegularization", "GaussianDropout", "GaussianNoise"):
        from . import regularization as module
    elif name in ("CategoryEncoding", "IntegerLookup", "StringLookup"):
        from . import lookup as module
    elif name == "EinsumDense":
        from . import einsum_dense as module
    elif name == "Hashing":
        from . import hashing as module
    elif name == "Discretization":
        from . import discretization as module
    elif name == "TextVectorization":
        from . import text_vectorization as module
    elif name == "MultiHeadAttention":
        from . import attention as module
    elif name in ("Attention", "AdditiveAttention"):
        from . import score_attention as module
    elif name == "OpLayer":  # what ops on symbolic tensors record (x + y, ops.mean(x))
        from . import op_layer as module
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(module, name)


Convolution2D, MaxPool2D, AvgPool2D = Conv2D, MaxPooling2D, AveragePooling2D
Convolution2DTranspose = Conv2DTranspose
Convolution1DTranspose = Conv1DTranspose
SeparableConvolution2D = SeparableConv2D
Convolution1D, MaxPool1D, AvgPool1D = Conv1D, MaxPooling1D, AveragePooling1D
Convolution3D, MaxPool3D, AvgPool3D = Conv3D, MaxPooling3D, AveragePooling3D
GlobalMaxPool1D, GlobalMaxPool2D, GlobalMaxPool3D = (GlobalMaxPooling1D, GlobalMaxPooling2D,
                                                     GlobalMaxPooling3D)
GlobalAvgPool1D, GlobalAvgPool2D, GlobalAvgPool3D = (
    GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalAveragePooling3D)

__all__ = [
    "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalAvgPool3D", "GlobalMaxPool1D", "GlobalMaxPool2D",
    "GlobalMaxPool3D",
    "AdditiveAttention", "Attention",
    "AvgPool3D", "AveragePooling3D", "Conv3D", "Convolution3D", "Cropping3D",
    "GlobalAveragePooling3D", "GlobalMaxPooling3D", "MaxPool3D", "MaxPooling3D",
    "UpSampling3D", "ZeroPadding3D",
    "Activation", "ActivityRegularization", "AlphaDropout", "Cropping1D", "ELU", "EinsumDense",
    "GaussianDropout",
    "GaussianNoise", "GroupNormalization", "Identity", "RMSNormalization",
    "PReLU", "Permute", "RepeatVector", "Softmax", "UpSampling1D", "ZeroPadding1D",
    "Add", "Average", "AveragePooling1D", "AveragePooling2D", "AvgPool1D",
    "AvgPool2D", "BatchNormalization", "Bidirectional", "Concatenate", "Conv1D", "Conv2D",
    "CategoryEncoding", "CenterCrop", "Discretization", "Hashing", "IntegerLookup",
    "RandomBrightness", "RandomContrast", "RandomTranslation", "StringLookup",
    "Conv1DTranspose", "Convolution1DTranspose",
    "Conv2DTranspose", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D", "Convolution1D",
    "Convolution2D", "Convolution2DTranspose", "Cropping2D",
    "Dense", "DepthwiseConv2D", "Dot", "Dropout", "Embedding", "Flatten",
    "GRU", "GRUCell", "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalMaxPooling1D",
    "GlobalMaxPooling2D", "Input", "InputLayer", "InputSpec", "LSTM", "LSTMCell", "Layer",
    "LayerNormalization", "Lambda",
    "LeakyReLU", "Masking", "MaxPool1D", "MaxPool2D", "MaxPooling1D", "MaxPooling2D", "Maximum",
    "Minimum", "MultiHeadAttention", "Multiply", "Normalization", "OpLayer", "Parameter",
    "Perceptron",
    "RNN", "RNTN", "RandomCrop",
    "RandomFlip", "RandomRotation", "RandomZoom", "ReLU", "RecursiveNN", "Rescaling", "Reshape",
    "Resizing",
    "SeparableConv2D", "SeparableConvolution2D", "SimpleRNN", "SimpleRNNCell",
    "SpatialDropout1D", "SpatialDropout2D", "StackedRNNCells", "Subtract", "SymbolicTensor",
    "TextVectorization",
    "TimeDistributed",
    "TreeLSTM", "UnitNormalization", "UpSampling2D", "ZeroPadding2D", "add", "average",
    "concatenate", "dot", "maximum",
    "minimum", "multiply", "subtract",
]
