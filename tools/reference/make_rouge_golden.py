#!/usr/bin/env python3
"""Writes eval/src/test/resources/io/cohx/eval/rouge_golden.jsonl.gz: ROUGE-1/2/L precision,
recall and F1 from Google's rouge-score package (RougeScorer(["rouge1", "rouge2", "rougeL"],
use_stemmer=False)) for pairs of real English text, which RougeGoldenTest compares with cohx's
Java ROUGE (io.cohx.eval.Rouge) to 1e-6.

The texts are the final assistant answers of HH-RLHF dialogues (Anthropic's hh-rlhf repository,
harmless-base test split, MIT license): each chosen answer against its rejected answer (similar
texts, partial overlap) and against the chosen answer of another record (little overlap), cut
to at most 600 characters at a space, plus a few edge cases (empty text, punctuation only,
digits, accented and non-Latin letters, repeated words). Output is byte-stable for one input
(seeded choice, gzip mtime 0).

  python3 -m venv ~/.cache/cohx/rougevenv
  ~/.cache/cohx/rougevenv/bin/pip install -r tools/reference/requirements-rouge.txt
  ~/.cache/cohx/rougevenv/bin/python tools/reference/make_rouge_golden.py --hh PATH/harmless-base-test.jsonl.gz
"""
import argparse
import gzip
import importlib.metadata
import io
import json
import os
import random

from rouge_score import rouge_scorer

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'eval', 'src', 'test', 'resources', 'io',
                   'cohx', 'eval', 'rouge_golden.jsonl.gz')
TYPES = ['rouge1', 'rouge2', 'rougeL']
EDGE_CASES = [
    ('', 'an answer with words'),
    ('a reference', ''),
    ('...!?', 'Only punctuation on the other side.'),
    ('The cat sat on the mat. The cat sat.', 'the the the cat cat mat'),
    ('Call 555-0100 before 9:30 on 12/05/2024.', 'call 5550100 before 930 on 12 05 2024'),
    ('Café déjà vu: naïve coöperation, façade.', 'Cafe deja vu naive cooperation facade'),
    ('Привет мир and hello world', 'hello, мир, world!'),
    ('KELVIN \u212a and \u0130stanbul', 'k and istanbul i'),
    ('one two three four five six', 'six five four three two one'),
    ('repeated repeated repeated words', 'repeated words words words'),
]


def final_answer(dialogue):
    return dialogue.split('Assistant:')[-1].strip()


def cut(text, limit=600):
    if len(text) <= limit:
        return text
    at = text.rfind(' ', 0, limit)
    return text[:at if at > 0 else limit]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--hh', required=True, help='HH-RLHF JSON lines (.gz) with chosen/rejected')
    ap.add_argument('--pairs', type=int, default=600)
    ap.add_argument('--out', default=OUT)
    args = ap.parse_args()
    version = importlib.metadata.version('rouge-score')
    if version != '0.1.2':
        raise SystemExit('rouge-score 0.1.2 is pinned (tools/reference/requirements-rouge.txt), found ' + version)
    with gzip.open(args.hh, 'rt', encoding='utf-8') as f:
        records = [json.loads(line) for line in f if line.strip()]
    rng = random.Random(15)
    picked = rng.sample(range(len(records)), args.pairs)
    pairs = []
    for k, i in enumerate(picked):
        chosen = cut(final_answer(records[i]['chosen']))
        if k % 4 == 3:
            other = cut(final_answer(records[picked[(k + 7) % len(picked)]]['chosen']))
        else:
            other = cut(final_answer(records[i]['rejected']))
        pairs.append((chosen, other))
    pairs.extend(EDGE_CASES)
    scorer = rouge_scorer.RougeScorer(TYPES, use_stemmer=False)
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode='wb', mtime=0) as gz:
        for reference, prediction in pairs:
            s = scorer.score(reference, prediction)
            row = {'reference': reference, 'prediction': prediction}
            for t in TYPES:
                row[t] = [s[t].precision, s[t].recall, s[t].fmeasure]
            gz.write((json.dumps(row, ensure_ascii=False) + '\n').encode('utf-8'))
    with open(args.out, 'wb') as f:
        f.write(buf.getvalue())
    print(f'wrote {len(pairs)} pairs to {args.out} (rouge-score {version})')


if __name__ == '__main__':
    main()
