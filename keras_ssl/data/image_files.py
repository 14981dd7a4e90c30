"""Finding image files: a folder (recursively), a glob pattern or a list."""

import glob
import os

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp")


def is_image_file(path):
    """Whether `path` has an image extension (case-insensitive)."""
    return path.lower().endswith(IMAGE_EXTENSIONS)


def _walk(directory):
    paths = []
    for root, dirs, files in os.walk(directory):
        dirs.sort()
        paths.extend(os.path.join(root, name) for name in sorted(files) if is_image_file(name))
    return paths


def _inferred_labels(directory, paths, class_names):
    """Class ids from the first folder under `directory` of each path."""
    folders = [os.path.relpath(path, directory).split(os.sep)[0] for path in paths]
    loose = [path for path, folder in zip(paths, folders) if not os.path.isdir(
        os.path.join(directory, folder))]
    if loose:
        raise ValueError(
            f"labels='inferred' reads each image's class from its folder "
            f"`{directory}/<class>/...`, but {len(loose)} images lie directly in "
            f"{directory!r} (e.g. {loose[0]!r}). Move them into class folders or "
            f"pass labels=None."
        )
    if class_names is None:
        class_names = sorted(set(folders))
    class_names = tuple(class_names)
    ids = {name: i for i, name in enumerate(class_names)}
    missing = sorted(set(class_names) - set(folders))
    if missing:
        raise ValueError(
            f"Class folder {', '.join(map(repr, missing))} not found (or with "
            f"no images) in {directory!r} "
            f"(class_names={list(class_names)})."
        )
    keep = [i for i, folder in enumerate(folders) if folder in ids]
    return [paths[i] for i in keep], [ids[folders[i]] for i in keep], class_names


def list_image_files(source, labels=None, class_names=None):
    """Lists image files, decoding nothing.

    Args:
        source: a folder (searched recursively, sub-folders in any layout), a
            glob pattern (`"photos/**/*.jpg"`, recursive `**` allowed) or a
            list of file paths (kept in its order). Files are kept when their
            extension is one of `IMAGE_EXTENSIONS`, case-insensitive; folders
            and patterns are listed in sorted order.
        labels: `None` (unlabelled), `"inferred"` (the class is the first
            folder under `source`, which must be a folder; images in nested
            folders `<class>/a/b.jpg` belong to `<class>`) or a list of
            integer labels, one per listed file in the listed order.
        class_names: with `labels="inferred"`, the class folders to read in
            label order (default: all, sorted alphabetically).

    Returns:
        `(paths, labels, class_names)`: a list of paths, a list of int labels
        (or `None`) and a tuple of class names (or `None`).
    """
    if isinstance(source, os.PathLike):
        source = os.fspath(source)
    if isinstance(source, str):
        if os.path.isdir(source):
            where = f"under the folder {source!r} (searched recursively)"
            paths = _walk(source)
        elif glob.has_magic(source):
            where = f"matching the pattern {source!r}"
            paths = sorted(p for p in glob.glob(source, recursive=True)
                           if os.path.isfile(p) and is_image_file(p))
        else:
            raise ValueError(
                f"`source` must be a folder, a glob pattern or a list of paths; "
                f"{source!r} is neither an existing folder nor a pattern."
            )
    elif isinstance(source, (list, tuple)):
        where = "in the list `source`"
        paths = [os.fspath(p) for p in source]
        not_images = [p for p in paths if not is_image_file(p)]
        if not_images:
            raise ValueError(
                f"`source` lists {len(not_images)} paths without an image "
                f"extension {IMAGE_EXTENSIONS}, e.g. {not_images[0]!r}."
            )
    else:
        raise ValueError(
            f"`source` must be a folder, a glob pattern or a list of paths. "
            f"Received: {type(source).__name__}"
        )
    if not paths:
        raise ValueError(
            f"No images ({', '.join(IMAGE_EXTENSIONS)}, any case) {where}."
        )
    if labels is None:
        if class_names is not None:
            raise ValueError("`class_names` needs labels='inferred'.")
        return paths, None, None
    if isinstance(labels, str):
        if labels != "inferred":
            raise ValueError(
                f"`labels` must be None, 'inferred' or a list of ints. "
                f"Received: labels={labels!r}"
            )
        if not (isinstance(source, str) and os.path.isdir(source)):
            raise ValueError(
                "labels='inferred' needs `source` to be a folder with one "
                f"sub-folder per class. Received: source={source!r}"
            )
        return _inferred_labels(source, paths, class_names)
    labels = [int(label) for label in labels]
    if len(labels) != len(paths):
        raise ValueError(
            f"`labels` holds {len(labels)} labels but {len(paths)} image files "
            f"were found {where}: give one label per file, in that order."
        )
    return paths, labels, None
