"""DINO's self-distillation loss (Caron et al. 2021, "Emerging Properties in
Self-Supervised Vision Transformers", https://arxiv.org/abs/2104.14294)."""

from keras import ops


def dino_loss(student_outputs, teacher_outputs, center, student_temperature=0.1,
              teacher_temperature=0.04):
    """Per-sample DINO loss: cross-entropy of the student's crops against the
    centered, sharpened teacher of every other global crop.

    `P_t = softmax((t - c) / T_t)` under `stop_gradient` for each global crop
    (the teacher sees the global crops only), `log P_s = log_softmax(s / T_s)`
    for every crop, and the loss averages `-sum_k P_t[k] log P_s[k]` over the
    pairs (teacher crop i, student crop j) with `j != i` (paper Algorithm 1;
    `2 (2 + L) - 2` pairs for 2 global and L local crops). Computed in
    float32. Chance: `ln K` for a uniform student.

    Args:
        student_outputs: list of `(N, K)` student logits, global crops first
            in the same order as `teacher_outputs`, then local crops.
        teacher_outputs: list of `(N, K)` teacher logits of the global crops.
        center: `(K,)` the teacher center.
        student_temperature: `T_s > 0` (0.1 in the paper).
        teacher_temperature: `T_t > 0` (0.04 -> 0.07 warm-up in the paper).

    Returns:
        `(N,)` float32 per-sample losses.
    """
    center = ops.cast(center, "float32")
    teacher = [
        ops.stop_gradient(
            ops.softmax((ops.cast(t, "float32") - center) / teacher_temperature, axis=-1)
        )
        for t in teacher_outputs
    ]
    student = [
        ops.log_softmax(ops.cast(s, "float32") / student_temperature, axis=-1)
        for s in student_outputs
    ]
    terms = [
        -ops.sum(p * log_q, axis=-1)
        for i, p in enumerate(teacher)
        for j, log_q in enumerate(student)
        if j != i
    ]
    return ops.mean(ops.stack(terms), axis=0)
