"""zkLoRA plugins.backends: compute backends (cpu: numba, cuda: cupy)."""
