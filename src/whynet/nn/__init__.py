"""whynet's engine: modules, layers, activations, initialisers, losses and regularisers."""

from . import _memory

from .module import Module, Parameter, Sequential
from .layers import Dense, Dropout, Flatten, Maxout
from .activations import Activation, Identity, ReLU, Sigmoid, Tanh
from .activations import (ACTIVATIONS, CELU, ELU, GELU, PReLU, ReLU6, SELU,  # noqa: F401
                          Hardtanh, LeakyReLU, Mish, SiLU, Softplus, Softsign, Swish,
                          get_activation)
from .norm import BatchNorm1d, BatchNorm2d, LayerNorm
from .conv import (AvgPool1d, AvgPool2d, Conv1d, Conv2d, GlobalAvgPool, MaxPool1d,  # noqa: F401
                   MaxPool2d)
from .recurrent import RNN, LastStep  # noqa: F401
from .losses import MSE, BCEWithLogits, MulticlassHinge, SoftmaxCrossEntropy, get_loss
from .regularizers import L1, L2, ElasticNet, get_regularizer
from .build import mlp

_memory.keep_freed_memory()  # before the first large array: see nn/_memory.py
