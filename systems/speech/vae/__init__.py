"""DiTAR's continuous speech tokenizer (§3.5.1): a VAE from 24 kHz waveform to 40 Hz x 64-d latents.

Convolutional encoder -> (mean, logvar); BigVGAN-style decoder (Snake activations, anti-aliased
multi-periodicity residual blocks); trained with multi-resolution mel L1, KL, and the HiFi-GAN
multi-period + multi-scale discriminators (adversarial + feature matching), as the paper states.

Modules: `config` (sizes), `modules` (encoder, decoder, activations), `model` (the registered
"vae" tokenizer), `discriminators`, `losses`, `train` (`ttsbench train vae CONFIG`).
"""
