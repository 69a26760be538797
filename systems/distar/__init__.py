"""DiSTAR: AR patch drafting over RVQ codes with a masked-diffusion infiller (see model.py)."""
