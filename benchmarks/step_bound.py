"""The step bound of the performance issues, and the batch and steps that
measure it per backbone.

An SSL step on pre-made views should take at most `BOUND_FACTOR` x the step
bound (issue 27, after issue 8's views x supervised step, which a method
with a momentum target cannot meet):

    views x supervised step + no-gradient passes x forward-only step
        + the no-gradient matmuls,

all of the same backbone and batch, measured in the same run. A
no-gradient pass is the method's `no_gradient_passes` (a momentum target's
forward on each view it sees), costed as a forward-only step of the
supervised model (`timing.forward_only_model`); the matmuls are its
`no_gradient_matmuls` (NNCLR's support-set search), each costed as a matmul
of that shape (`timing.matmul_seconds`).
"""

# Backbone -> (batch size, timed steps per round) of the issues' protocol.
SETTINGS = {"small_cnn": (256, 8), "resnet18": (128, 3)}
# The SSL step on pre-made views should take at most this times `step_bound`.
BOUND_FACTOR = 1.15


def step_bound(supervised, forward_only, num_views, no_gradient_passes, matmuls=0.0):
    """Seconds of the step bound: `num_views` supervised steps,
    `no_gradient_passes` forward-only steps and the `matmuls` seconds of the
    method's no-gradient matrix products."""
    return num_views * supervised + no_gradient_passes * forward_only + matmuls
