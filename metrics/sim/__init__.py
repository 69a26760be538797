"""Speaker similarity: the WavLM-large + ECAPA-TDNN verifier of seed-tts-eval and F5-TTS (`sim-wavlm-ecapa`)."""
