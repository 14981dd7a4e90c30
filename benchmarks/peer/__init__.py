"""Side-by-side benchmark against lightly (PyTorch); see README.md."""
