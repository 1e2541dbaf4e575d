#!/usr/bin/env python3
"""Reimplementation of the Chain of Hindsight reference packer's rules (docs/COH.md#templates),
used to make the golden files of `cohx pack` and as the Python baseline of bench/.

It follows the reference's algorithm step by step (each record is processed once for the
per-dataset file and once more for the combined file, the combined file is shuffled in memory),
with the changes cohx makes on purpose, each marked FIX below:
  - the combined train/eval files get every dataset appended (the reference rewrote them per
    dataset, keeping only the last);
  - random choices (task phrase, shuffle) use the seeded SplitMix64 streams defined in
    coh/.../SeededChoice.java instead of Python's unseeded global `random`;
  - a dialogue "Human:" part without "Assistant:" yields no answer (the reference duplicated the
    human text as a loss-bearing answer);
  - a summary record whose info.post is null uses info.article (the reference wrote "None");
  - marker keys are named by the field ids (identical with the defaults).

Usage:
  pack_reference.py --input dialogue=DIR_OR_FILE [--input webgpt=...] [--include-feedback p,n]
                    [--seed 42] --output-dir OUT
  pack_reference.py --golden      # rewrites coh/src/test/resources/pack/expected from the fixtures
Only the standard library is used.
"""
import argparse
import gzip
import json
import os
import re
import shutil
import sys

# ---- the reference's phrase tables (docs/COH.md#feedback-types) ---------------------------------------
DIALOGUE = {
    'good': ['The following is a better response.', 'The following is a more helpful response.',
             'The following is a more harmless response.', 'The following is a better chat.',
             'The following is a more helpful chat.', 'The following is a more harmless chat.',
             'Generate a better response.', 'Generate a more helpful response.',
             'Generate a more harmless response.', 'Generate a better chat.',
             'Generate a more helpful chat.', 'Generate a more harmless chat.'],
    'bad': ['The following is a worse response.', 'The following is a less helpful response.',
            'The following is a more harmful response.', 'The following is a worse chat.',
            'The following is a less helpful chat.', 'The following is a more harmful chat.',
            'Generate a worse response.', 'Generate a less helpful response.',
            'Generate a more harmful response.', 'Generate a worse chat.',
            'Generate a less helpful chat.', 'Generate a more harmful chat.'],
}
WEBGPT = {
    'good': ['The following is a better answer.', 'The following is a more accurate answer.',
             'The following is a more correct answer.', 'Generate a better answer.',
             'Generate a more accurate answer.', 'Generate a more correct answer.'],
    'bad': ['The following is a worse answer.', 'The following is a less accurate answer.',
            'The following is a less correct answer.', 'Generate a worse answer.',
            'Generate a less accurate answer.', 'Generate a less correct answer.'],
    'task': ['Quote the following sources in your answer: ', 'Use the following sources in your answer: ',
             'You may use the following sources in your answer: ',
             'You may quote the following sources in your answer: ', 'The following sources may be helpful: '],
}
SUMMARY = {
    'good': ['The following is a better summary.', 'The following is a more accurate summary.',
             'The following is a more correct summary.', 'Generate a better summary.',
             'Generate a more accurate summary.', 'Generate a more correct summary.'],
    'bad': ['The following is a worse summary.', 'The following is a less accurate summary.',
            'The following is a less correct summary.', 'Generate a worse summary.',
            'Generate a less accurate summary.', 'Generate a less correct summary.'],
    'task': ['Write a summary of the following article: ', 'Generate a summary of the following text: ',
             'Summarize the following article: ', 'Summarize the following text: ',
             'Write a summary of the following text: ', 'Here is a news article, please summarize it: ',
             'Please write a summary of the following paragraph: ', 'Please summarize the following paragraph: '],
}
PREFIX = {'dialogue': 'hh_dialogue', 'webgpt': 'webgpt', 'summary': 'summary'}

# ---- FIX: seeded choices (mirrors SeededChoice.java) ------------------------------------------------
M64 = (1 << 64) - 1


class Rng:
    def __init__(self, key):
        h = 0xcbf29ce484222325
        for b in key.encode('utf-8'):
            h = ((h ^ b) * 0x100000001b3) & M64
        self.state = h

    def next(self):
        self.state = (self.state + 0x9e3779b97f4a7c15) & M64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & M64
        z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & M64
        return z ^ (z >> 31)

    def choice(self, items):
        return items[self.next() % len(items)]

    def shuffle(self, order):
        for i in range(len(order) - 1, 0, -1):
            j = self.next() % (i + 1)
            order[i], order[j] = order[j], order[i]


class Flags:
    def __init__(self, include_feedback, seed):
        self.include_feedback = include_feedback
        self.seed = seed
        self.gpt_marker = 'A helpful answer:'
        self.gpt_bad_marker = 'An unhelpful answer:'
        self.user_marker = 'User:'
        self.user_field_id = 'marker_user'
        self.gpt_field_id = 'marker_gpt'
        self.gpt_bad_field_id = 'marker_gpt_bad'
        self.user_data_id = 'human'
        self.gpt_data_id = 'gpt'
        self.gpt_bad_data_id = 'gpt_bad'


def header(F, gpt_marker, gpt_bad_marker):
    return {F.user_field_id: F.user_marker, F.gpt_field_id: gpt_marker, F.gpt_bad_field_id: gpt_bad_marker}


def marker_pairs(F, table):
    if 'aux' in F.include_feedback.split(','):
        return list(zip(table['good'], table['bad']))
    return [(F.gpt_marker, F.gpt_bad_marker)]


def process_dialogue(F, example, rng):
    all_output = []
    kinds = F.include_feedback.split(',')

    def pack_data(data, is_positive, output, fields):
        final_output = []
        for message in data.split('Human:')[1:]:
            message = message.split('Assistant:')
            final_output.append(message[0].strip())
            # FIX: no reply -> a placeholder that yields no answer (the reference appended message[0] again)
            final_output.append(message[1].strip() if len(message) > 1 else None)
        for i, message in enumerate(final_output):
            if i % 2 == 0:
                user_id = '{}_{}'.format(F.user_data_id, i)
                output[user_id] = f"{message}"
            elif message is not None:
                if is_positive:
                    output['{}_{}'.format(F.gpt_data_id, i)] = f"{message}"
                    fields.append('[{}+{}+{}]'.format(F.user_field_id, user_id, F.gpt_field_id))
                    fields.append('{}_{}'.format(F.gpt_data_id, i))
                else:
                    output['{}_{}'.format(F.gpt_bad_data_id, i)] = f"{message}"
                    fields.append('[{}+{}+{}]'.format(F.user_field_id, user_id, F.gpt_bad_field_id))
                    fields.append('{}_{}'.format(F.gpt_bad_data_id, i))
                fields.append('<|eos|>')
        return output, fields

    for gpt_marker, gpt_bad_marker in marker_pairs(F, DIALOGUE):
        if 'p' in kinds:
            output, fields = pack_data(example['chosen'], True, header(F, gpt_marker, gpt_bad_marker), [])
            output['fields'] = ','.join(fields)
            all_output.append(output)
        if 'n' in kinds:
            output, fields = pack_data(example['rejected'], False, header(F, gpt_marker, gpt_bad_marker), [])
            output['fields'] = ','.join(fields)
            all_output.append(output)
        if 'np' in kinds:
            output, fields = pack_data(example['rejected'], False, header(F, gpt_marker, gpt_bad_marker), [])
            output, fields = pack_data(example['chosen'], True, output, fields)
            output['fields'] = ','.join(fields)
            all_output.append(output)
        if 'pn' in kinds:
            output, fields = pack_data(example['chosen'], True, header(F, gpt_marker, gpt_bad_marker), [])
            output, fields = pack_data(example['rejected'], False, output, fields)
            output['fields'] = ','.join(fields)
            all_output.append(output)
    return all_output


def pair_types(F, table, pack_data, pos_idx, neg_idx):
    all_output = []
    kinds = F.include_feedback.split(',')
    for gpt_marker, gpt_bad_marker in marker_pairs(F, table):
        if 'p' in kinds:
            output, fields = pack_data(pos_idx, True, header(F, gpt_marker, gpt_bad_marker), [])
            output['fields'] = ','.join(fields)
            all_output.append(output)
        if 'n' in kinds:
            output, fields = pack_data(neg_idx, False, header(F, gpt_marker, gpt_bad_marker), [])
            output['fields'] = ','.join(fields)
            all_output.append(output)
        if 'pn' in kinds:
            output, fields = pack_data(pos_idx, True, header(F, gpt_marker, gpt_bad_marker), [])
            output, fields = pack_data(neg_idx, False, output, fields, use_user_input=False)
            output['fields'] = ','.join(fields)
            all_output.append(output)
        if 'np' in kinds:
            output, fields = pack_data(neg_idx, False, header(F, gpt_marker, gpt_bad_marker), [])
            output, fields = pack_data(pos_idx, True, output, fields, use_user_input=False)
            output['fields'] = ','.join(fields)
            all_output.append(output)
    return all_output


def process_summary(F, example, rng):
    pos_idx = int(example['choice'])
    neg_idx = 1 - pos_idx

    def pack_data(idx, is_positive, output, fields, use_user_input=True):
        if use_user_input:
            post = example['info']['post']
            if post is None and example['info'].get('article') is not None:
                post = example['info']['article']  # FIX: news articles have no post
            output['{}_{}'.format(F.user_data_id, idx)] = rng.choice(SUMMARY['task']) + f"{post}"
            user_input_fields = '{}+{}_{}+'.format(F.user_field_id, F.user_data_id, idx)
        else:
            user_input_fields = ''
        answer = example['summaries'][idx]['text'].lstrip()
        if is_positive:
            output['{}_{}'.format(F.gpt_data_id, idx)] = f"{answer}"
            fields.append('[{}{}]'.format(user_input_fields, F.gpt_field_id))
            fields.append('{}_{}'.format(F.gpt_data_id, idx))
        else:
            output['{}_{}'.format(F.gpt_bad_data_id, idx)] = f"{answer}"
            fields.append('[{}{}]'.format(user_input_fields, F.gpt_bad_field_id))
            fields.append('{}_{}'.format(F.gpt_bad_data_id, idx))
        fields.append('<|eos|>')
        return output, fields

    return pair_types(F, SUMMARY, pack_data, pos_idx, neg_idx)


def process_webgpt(F, example, rng):
    if example['score_0'] > example['score_1']:
        pos_idx, neg_idx = 0, 1
    elif example['score_0'] < example['score_1']:
        pos_idx, neg_idx = 1, 0
    else:
        return None  # ties are skipped

    def pack_data(idx, is_positive, output, fields, use_user_input=True):
        if use_user_input:
            output['{}_{}'.format(F.user_data_id, idx)] = f"{example['question']['full_text']}"
            user_input_fields = '{}+{}_{}'.format(F.user_field_id, F.user_data_id, idx)
        else:
            user_input_fields = ''
        if len(example[f'quotes_{idx}']['title']) > 0:
            output['quote_{}'.format(idx)] = rng.choice(WEBGPT['task'])
            for i, x in enumerate(zip(example[f'quotes_{idx}']['title'], example[f'quotes_{idx}']['extract'])):
                output['quote_{}'.format(idx)] += f"{[i + 1]} title: {x[0]} content: {x[1]} "
            if user_input_fields != '':
                user_input_fields += '+'
            user_input_fields += 'quote_{}'.format(idx)
        if user_input_fields != '':
            user_input_fields += '+'
        answer = example[f'answer_{idx}']
        if is_positive:
            output['{}_{}'.format(F.gpt_data_id, idx)] = f"{answer}"
            fields.append('[{}{}]'.format(user_input_fields, F.gpt_field_id))
            fields.append('{}_{}'.format(F.gpt_data_id, idx))
        else:
            output['{}_{}'.format(F.gpt_bad_data_id, idx)] = f"{answer}"
            fields.append('[{}{}]'.format(user_input_fields, F.gpt_bad_field_id))
            fields.append('{}_{}'.format(F.gpt_bad_data_id, idx))
        fields.append('<|eos|>')
        return output, fields

    return pair_types(F, WEBGPT, pack_data, pos_idx, neg_idx)


PROCESS = {'dialogue': process_dialogue, 'webgpt': process_webgpt, 'summary': process_summary}

# ---- reading the published layouts (same rules as InputFile.java / Split.java) --------------------
EVAL_NAME = re.compile(r'(test|valid|validation|eval|dev)')
TRAIN_NAME = re.compile(r'(?<![a-z])train')


def split_of_name(name):
    n = name.lower()
    if TRAIN_NAME.search(n):
        return 'train'
    return 'eval' if EVAL_NAME.search(n) else None


def data_files(path):
    if not os.path.isdir(path):
        return [path]
    out = []
    for root, _, names in os.walk(path):
        for n in names:
            low = n.lower()
            if n.startswith('.') or n == 'dataset_infos.json':
                continue
            if low.endswith(('.jsonl', '.jsonl.gz', '.json', '.json.gz', '.ndjson')):
                out.append(os.path.join(root, n))
    return sorted(out, key=lambda p: p.encode('utf-8'))


def records(path):
    with open(path, 'rb') as f:
        raw = f.read()
    if raw[:2] == b'\x1f\x8b':
        raw = gzip.decompress(raw)
    text = raw.decode('utf-8')
    if text.lstrip('\ufeff \t\r\n').startswith('['):
        yield from json.loads(text.lstrip('\ufeff'))
        return
    for line in text.split('\n'):
        line = line.strip('\ufeff')
        if line.strip():
            yield json.loads(line)


def load_splits(dataset, paths):
    """Records of each split, in the order cohx reads them."""
    splits = {'train': [], 'eval': []}
    for path, forced in paths:
        for f in data_files(path):
            split = forced or split_of_name(os.path.basename(f)) or split_of_name(
                os.path.relpath(f, path) if os.path.isdir(path) else os.path.basename(f))
            if split is None and dataset == 'webgpt':
                split = 'train'
            for rec in records(f):
                own = None
                if dataset == 'summary' and isinstance(rec.get('split'), str):
                    v = rec['split'].lower()
                    own = 'train' if v == 'train' else ('eval' if EVAL_NAME.search(v) else None)
                s = own or split
                if s is None:
                    raise SystemExit(f'{f}: cannot tell the split of a record')
                splits[s].append(rec)
    return splits


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument('--input', action='append', default=[])
    ap.add_argument('--dataset', default=None)
    ap.add_argument('--include-feedback', default='p,n,pn,np,aux')
    ap.add_argument('--seed', type=int, default=42)
    ap.add_argument('--output-dir')
    ap.add_argument('--golden', action='store_true')
    a = ap.parse_args(argv)
    if a.golden:
        return golden()
    inputs = {}
    for spec in a.input:
        name, path = spec.split('=', 1)
        ds, _, split = name.partition('.')
        inputs.setdefault(ds, []).append((path, {'': None, 'train': 'train', 'eval': 'eval', 'test': 'eval'}[split]))
    datasets = a.dataset.split(',') if a.dataset else list(inputs)
    pack(datasets, inputs, Flags(a.include_feedback, a.seed), a.output_dir)


def pack(datasets, inputs, F, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    fb = F.include_feedback
    combined = {'train': [], 'eval': []}
    for ds in datasets:
        splits = load_splits(ds, inputs[ds])
        for split in ('train', 'eval'):
            data = splits[split]
            if not data:
                continue
            # As the reference: the per-dataset file, then the same records processed again for the
            # combined file (FIX: appended to, not rewritten).
            with open(f'{out_dir}/{PREFIX[ds]}_{split}_{fb}.jsonl', 'w') as fout:
                for i, example in enumerate(data):
                    all_output = PROCESS[ds](F, example, Rng(f'{F.seed}:{ds}:{split}:{i}'))
                    for output in all_output or []:
                        fout.write(json.dumps(output) + '\n')
            with open(f'{out_dir}/{split}_{fb}.jsonl', 'a' if combined[split] else 'w') as fout:
                for i, example in enumerate(data):
                    all_output = PROCESS[ds](F, example, Rng(f'{F.seed}:{ds}:{split}:{i}'))
                    for output in all_output or []:
                        fout.write(json.dumps(output) + '\n')
            combined[split].append(ds)
    for split in ('train', 'eval'):
        if not combined[split]:
            continue
        with open(f'{out_dir}/{split}_{fb}.jsonl') as fin, open(f'{out_dir}/{split}_{fb}_shuffled.jsonl', 'w') as fout:
            lines = fin.readlines()
            order = list(range(len(lines)))
            Rng(f'{F.seed}:shuffle:{split}').shuffle(order)
            for i in order:
                fout.write(lines[i])


GOLDEN_CASES = {
    # name: (include_feedback, seed)
    'all-aux': ('p,n,pn,np,aux', 42),
    'plain': ('p,n,pn,np', 7),
    'pn-only': ('pn', 42),
}


def golden():
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'coh', 'src', 'test', 'resources',
                        'pack')
    fixtures = os.path.join(root, 'fixtures')
    inputs = {ds: [(os.path.join(fixtures, ds), None)] for ds in ('dialogue', 'webgpt', 'summary')}
    for name, (fb, seed) in GOLDEN_CASES.items():
        out = os.path.join(root, 'expected', name)
        shutil.rmtree(out, ignore_errors=True)
        pack(['dialogue', 'webgpt', 'summary'], inputs, Flags(fb, seed), out)
        print(f'wrote {out}', file=sys.stderr)


if __name__ == '__main__':
    main(sys.argv[1:])
