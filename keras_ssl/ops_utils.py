"""Small tensor helpers shared by losses, layers and methods (`keras.ops` only)."""

from keras import ops


def l2_normalize(x, axis=-1):
    """`x / max(||x||_2, 1e-12)` along `axis`, computed in float32."""
    return ops.normalize(ops.cast(x, "float32"), axis=axis, epsilon=1e-12)
