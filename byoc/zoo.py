"""Bundled models, written by our TFLite builder from a seed (no TensorFlow, no downloads).

``small_cnn`` is a 15-operator int8 CNN in the style of an MCU keyword-spotting/vision
network (conv, depthwise, pointwise, residual add, pools, mean, fully connected, softmax),
used by the demo and the tests.
"""

from __future__ import annotations

from .tflite.builder import LayerBuilder


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


MODELS = {"small_cnn": small_cnn}
