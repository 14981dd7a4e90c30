"""Batches of evaluation data, a dataset or arrays, read the same way by
every evaluation."""


def image_label_batches(data, batch_size):
    """Yield `(images, labels or None)` batches of a dataset or arrays."""
    if isinstance(data, (tuple, list)):
        if len(data) != 2:
            raise ValueError(
                "`data` must be a dataset or an `(x, y)` tuple of arrays, got "
                f"a {type(data).__name__} of length {len(data)}."
            )
        x, y = data
        for start in range(0, len(x), batch_size):
            stop = start + batch_size
            yield x[start:stop], None if y is None else y[start:stop]
        return
    for element in data:
        if isinstance(element, (tuple, list)):
            yield element[0], element[1] if len(element) > 1 else None
        else:
            yield element, None
