"""ASR backends of the WER recipes, one class per engine, registered in `ttsbench.plugins.ASR`.

  hf-whisper      transformers Whisper (seedtts-en: whisper-large-v3, fp32, greedy, forced language)
  faster-whisper  CTranslate2 Whisper via faster-whisper (f5-en: large-v3, beam 5; offline tiny.en)
  hf-ctc          transformers CTC models (hubert-en: facebook/hubert-large-ls960-ft, greedy CTC)
  paraformer      funasr AutoModel (seedtts-zh: SeACo-Paraformer, the `funasr` extra)

Heavy libraries are imported when a backend is constructed (in a recipe's setup), never at import.
"""
