"""Model serving: a Triton server for remote inference, and model repositories for NVIDIA's
Triton container."""
