import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def pytest_collection_modifyitems(items):
    """The `slow` tests first. With `pytest -n 2` the long ones then run side
    by side from the start and the short ones fill in around them, instead
    of a long one starting last on one worker while the other idles."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
