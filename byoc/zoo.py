"""Bundled models, written by our TFLite builder from a seed (no TensorFlow, no downloads).

``small_cnn`` is a 15-operator int8 CNN in the style of an MCU keyword-spotting/vision
network (conv, depthwise, pointwise, residual add, pools, mean, fully connected, softmax),
used by the demo and the tests.

``MLPERF_TINY`` names the four MLPerf Tiny reference networks at their benchmark sizes
(``ds_cnn``, ``mobilenet_v1_025``, ``resnet8``, ``fc_autoencoder``): int8, per-channel
weights, deterministic from their seed; ``make bench`` measures them on every target.
``MODELS`` maps every name to its function (``fn(seed=...) -> .tflite bytes``).
"""

from __future__ import annotations

import math

import numpy as np

from .tflite.builder import _TYPICAL_STD, LayerBuilder


def small_cnn(seed: int = 7, input_shape: tuple[int, int, int, int] = (1, 24, 24, 3)) -> bytes:
    """15 operators: the whole-model test and demo network. Returns .tflite bytes."""
    lb = LayerBuilder(seed=seed, description="byoc small_cnn")
    x = lb.input(input_shape, scale=0.02, zero_point=-10, name="image")
    x = lb.conv2d(x, 8, 3, stride=2, activation="RELU6")                  # 12x12x8
    y = lb.depthwise_conv2d(x, 3, activation="RELU")                       # 12x12x8
    y = lb.conv2d(y, 8, 1, activation=None)                                # 12x12x8
    x = lb.add(x, y, activation="RELU")                                    # residual
    x = lb.pad(x, [(0, 0), (1, 1), (1, 1), (0, 0)])                        # 14x14x8
    x = lb.conv2d(x, 16, 3, padding="VALID", activation="RELU")            # 12x12x16
    x = lb.max_pool2d(x, 2, 2)                                             # 6x6x16
    a = lb.depthwise_conv2d(x, 3, depth_multiplier=2, activation="RELU6")  # 6x6x32
    b = lb.conv2d(x, 16, 1, activation="RELU")                             # 6x6x16
    x = lb.concatenation([a, b], axis=3)                                   # 6x6x48
    x = lb.avg_pool2d(x, 2, 2)                                             # 3x3x48
    x = lb.mean(x, [1, 2], keep_dims=True)                                 # 1x1x48
    x = lb.reshape(x, (1, 48))
    x = lb.fully_connected(x, 10)
    lb.output(lb.softmax(x))
    return lb.build()


# ---------------------------------------------------------------------------------------
# MLPerf Tiny reference networks, rebuilt layer for layer with our TFLite writer.
#
# Architectures follow the MLPerf Tiny reference training scripts (layer counts, channels,
# kernel sizes, strides, padding, activations); batch normalisation is folded into the
# convolution biases and dropout disappears, as in the TFLite converter's int8 output.
# Weights are seeded random int8 (per-channel scales), biases int32, activation scales are
# chosen so that every layer's output spreads over most of the int8 range: the arithmetic,
# shapes, MACs and memory are those of the trained models, the accuracy is not.
# ---------------------------------------------------------------------------------------

class _TrainedScales(LayerBuilder):
    """LayerBuilder whose per-channel weight scales shrink with the fan-in, as a trained
    network's do: the real weights have a standard deviation of about 1.2 / sqrt(fan_in)
    (between LeCun's 1 and He's 1.4), which keeps every layer's output scale near its
    input's instead of growing layer after layer, so that deep networks keep realistic
    activation scales and the softmax sees logits of a realistic scale."""

    def _weights(self, shape, out_axis: int, out_channels: int):
        w, q = super()._weights(shape, out_axis, out_channels)
        fan_in = int(np.prod(shape)) // out_channels
        # the base scales spread over a factor of 4, mean 0.005: keep the spread, and make
        # the mean the one at which the builder's output scale equals the input scale
        mean = 1.0 / (_TYPICAL_STD * math.sqrt(fan_in))
        q.scale = [float(np.float32(mean * s / 0.005)) for s in q.scale]
        return w, q


def ds_cnn(seed: int = 1) -> bytes:
    """Keyword spotting, DS-CNN (small): input 1x49x10x1 (49 frames x 10 MFCCs), 12 classes.

    CONV_2D 64 10x4 stride 2 + ReLU; 4 x (DEPTHWISE 3x3 + ReLU, CONV_2D 64 1x1 + ReLU);
    AVERAGE_POOL_2D 24x5 (VALID); RESHAPE; FULLY_CONNECTED 12; SOFTMAX: 13 operators."""
    lb = _TrainedScales(seed=seed, description="byoc MLPerf Tiny KWS DS-CNN")
    x = lb.input((1, 49, 10, 1), scale=0.5, zero_point=83, name="input")
    x = lb.conv2d(x, 64, (10, 4), stride=2, activation="RELU")             # 25x5x64
    for _ in range(4):
        x = lb.depthwise_conv2d(x, 3, activation="RELU")                     # 25x5x64
        x = lb.conv2d(x, 64, 1, activation="RELU")                           # 25x5x64
    x = lb.avg_pool2d(x, (24, 5), (24, 5))                                   # 1x1x64
    x = lb.reshape(x, (1, 64))
    x = lb.fully_connected(x, 12)
    lb.output(lb.softmax(x))
    return lb.build()


def mobilenet_v1_025(seed: int = 2) -> bytes:
    """Visual wake words, MobileNetV1 alpha 0.25: input 1x96x96x3, 2 classes.

    CONV_2D 8 3x3 stride 2 + ReLU; 13 x (DEPTHWISE 3x3 + ReLU, CONV_2D 1x1 + ReLU) with
    pointwise channels 16, 32, 32, 64, 64, 128 x 6, 256, 256 and depthwise stride 2 in
    blocks 2, 4, 6, 12; AVERAGE_POOL_2D 3x3; RESHAPE; FULLY_CONNECTED 2; SOFTMAX:
    31 operators."""
    lb = _TrainedScales(seed=seed, description="byoc MLPerf Tiny VWW MobileNetV1 0.25")
    x = lb.input((1, 96, 96, 3), scale=1.0 / 255.0, zero_point=-128, name="input")
    x = lb.conv2d(x, 8, 3, stride=2, activation="RELU")                    # 48x48x8
    blocks = [(16, 1), (32, 2), (32, 1), (64, 2), (64, 1), (128, 2), (128, 1), (128, 1),
              (128, 1), (128, 1), (128, 1), (256, 2), (256, 1)]
    for filters, stride in blocks:
        x = lb.depthwise_conv2d(x, 3, stride=stride, activation="RELU")
        x = lb.conv2d(x, filters, 1, activation="RELU")
    x = lb.avg_pool2d(x, x.shape[1:3], x.shape[1:3])                        # 1x1x256
    x = lb.reshape(x, (1, x.shape[-1]))
    x = lb.fully_connected(x, 2)
    lb.output(lb.softmax(x))
    return lb.build()


def resnet8(seed: int = 3) -> bytes:
    """Image classification, ResNet-8 (CIFAR-10): input 1x32x32x3, 10 classes.

    CONV_2D 16 3x3 + ReLU; three stacks of two 3x3 convolutions (16, 32, 64 filters; the
    first convolution of stacks 2 and 3 has stride 2 and their shortcut is a 1x1 stride-2
    CONV_2D) closed by ADD + ReLU; AVERAGE_POOL_2D 8x8; RESHAPE; FULLY_CONNECTED 10;
    SOFTMAX: 16 operators."""
    lb = _TrainedScales(seed=seed, description="byoc MLPerf Tiny IC ResNet-8")
    x = lb.input((1, 32, 32, 3), scale=1.0 / 255.0, zero_point=-128, name="input")
    x = lb.conv2d(x, 16, 3, activation="RELU")                              # 32x32x16
    for filters, stride in ((16, 1), (32, 2), (64, 2)):
        y = lb.conv2d(x, filters, 3, stride=stride, activation="RELU")
        y = lb.conv2d(y, filters, 3)
        if stride != 1:
            x = lb.conv2d(x, filters, 1, stride=stride)
        x = lb.add(x, y, activation="RELU")
    x = lb.avg_pool2d(x, x.shape[1:3], x.shape[1:3])                        # 1x1x64
    x = lb.reshape(x, (1, x.shape[-1]))
    x = lb.fully_connected(x, 10)
    lb.output(lb.softmax(x))
    return lb.build()


def fc_autoencoder(seed: int = 4) -> bytes:
    """Anomaly detection, fully-connected autoencoder (DCASE 2020 baseline): input 1x640
    (5 frames x 128 log-mel bands), output 1x640 (its reconstruction).

    FULLY_CONNECTED 128 + ReLU x 4, 8 + ReLU (bottleneck), 128 + ReLU x 4, 640 (linear):
    10 operators."""
    lb = _TrainedScales(seed=seed, description="byoc MLPerf Tiny AD FC autoencoder")
    x = lb.input((1, 640), scale=0.4, zero_point=100, name="input")
    for units in (128, 128, 128, 128, 8, 128, 128, 128, 128):
        x = lb.fully_connected(x, units, activation="RELU")
    lb.output(lb.fully_connected(x, 640))
    return lb.build()


#: Every bundled network by name; the MLPerf Tiny ones are the benchmark set (``MLPERF_TINY``).
MODELS = {"small_cnn": small_cnn, "ds_cnn": ds_cnn, "mobilenet_v1_025": mobilenet_v1_025,
          "resnet8": resnet8, "fc_autoencoder": fc_autoencoder}
MLPERF_TINY = ("ds_cnn", "mobilenet_v1_025", "resnet8", "fc_autoencoder")
