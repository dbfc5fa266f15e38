"""whynet's engine: modules, layers, activations, initialisers, losses and regularisers."""

from .module import Module, Parameter, Sequential
from .layers import Dense
from .activations import Activation, Identity, ReLU, Sigmoid, Tanh
