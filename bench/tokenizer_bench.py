#!/usr/bin/env python3
"""Encode throughput of the reference tokenizer libraries on the same corpus as TokenizerBench.

Usage: tokenizer_bench.py CORPUS.jsonl[.gz] THREADS SECONDS SP_MODEL GPT2_VOCAB_JSON [NAME=TOKENIZER_JSON...]
Prints one JSON line per measurement (MB/s of UTF-8 input). sentencepiece and tiktoken take a
thread count per call; Hugging Face tokenizers runs encode_batch on its own thread pool, made
sequential for the single-threaded row with TOKENIZERS_PARALLELISM=false.
Needs: python3 -m pip install -r tools/reference/requirements.txt
"""
import gzip
import json
import os
import sys
import time
from pathlib import Path


def read_corpus(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        return [v for v in (json.loads(line) for line in f) if isinstance(v, str)]


def measure(impl, name, mode, threads, corpus, nbytes, seconds, fn):
    tokens = sum(len(x) for x in fn())
    warm_end = time.perf_counter() + seconds * 0.5
    while time.perf_counter() < warm_end:
        fn()
    passes = 0
    start = time.perf_counter()
    while True:
        fn()
        passes += 1
        if time.perf_counter() - start >= seconds:
            break
    elapsed = time.perf_counter() - start
    print(json.dumps({"bench": "tokenizer_encode", "impl": impl, "tokenizer": name, "mode": mode, "threads": threads,
                      "texts": len(corpus), "bytes": nbytes, "tokens": tokens, "passes": passes,
                      "seconds": round(elapsed, 3), "mb_per_s": round(nbytes * passes / elapsed / 1e6, 2),
                      "tokens_per_s": round(tokens * passes / elapsed)}), flush=True)


def main():
    corpus_path, threads, seconds, sp_model, gpt2_vocab = sys.argv[1:6]
    threads, seconds = int(threads), float(seconds)
    corpus = read_corpus(corpus_path)
    nbytes = sum(len(s.encode("utf-8")) for s in corpus)

    import sentencepiece as spm
    sp = spm.SentencePieceProcessor(model_file=sp_model)
    measure("sentencepiece", "sp", "single", 1, corpus, nbytes, seconds, lambda: sp.encode(corpus, num_threads=1))
    measure("sentencepiece", "sp", "multi", threads, corpus, nbytes, seconds,
            lambda: sp.encode(corpus, num_threads=threads))

    import tiktoken
    from tiktoken.load import data_gym_to_mergeable_bpe_ranks
    vocab = Path(gpt2_vocab)
    ranks = data_gym_to_mergeable_bpe_ranks(str(vocab.with_name("merges.txt")), str(vocab))
    pat = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
    enc = tiktoken.Encoding("gpt2", pat_str=pat, mergeable_ranks=ranks, special_tokens={"<|endoftext|>": 50256})
    measure("tiktoken", "gpt2", "single", 1, corpus, nbytes, seconds,
            lambda: [enc.encode_ordinary(s) for s in corpus])  # the batch API's thread pool only adds overhead here
    measure("tiktoken", "gpt2", "multi", threads, corpus, nbytes, seconds,
            lambda: enc.encode_ordinary_batch(corpus, num_threads=threads))

    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    hf = Tokenizer(models.BPE.from_file(str(vocab), str(vocab.with_name("merges.txt"))))
    hf.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    hf.decoder = decoders.ByteLevel()

    def hf_batch():
        return [e.ids for e in hf.encode_batch(corpus, add_special_tokens=False)]
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    measure("hf-tokenizers", "gpt2", "single", 1, corpus, nbytes, seconds, hf_batch)
    os.environ["TOKENIZERS_PARALLELISM"] = "true"
    measure("hf-tokenizers", "gpt2", "multi", threads, corpus, nbytes, seconds, hf_batch)

    # Hugging Face tokenizer.json files, special tokens literal as cohx's encode(text) does.
    for spec in sys.argv[6:]:
        name, path = spec.split("=", 1)
        tok = Tokenizer.from_file(path)
        tok.encode_special_tokens = True

        def batch(tok=tok):
            return [e.ids for e in tok.encode_batch(corpus, add_special_tokens=False)]
        os.environ["TOKENIZERS_PARALLELISM"] = "false"
        measure("hf-tokenizers", name, "single", 1, corpus, nbytes, seconds, batch)
        os.environ["TOKENIZERS_PARALLELISM"] = "true"
        measure("hf-tokenizers", name, "multi", threads, corpus, nbytes, seconds, batch)


if __name__ == "__main__":
    main()
