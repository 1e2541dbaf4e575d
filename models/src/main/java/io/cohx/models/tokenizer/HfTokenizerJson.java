package io.cohx.models.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Reads a Hugging Face {@code tokenizer.json} with a BPE model into an {@link HfBpeTokenizer}, and
 * builds the same kind of tokenizer from a GGUF-style {@link Vocabulary} of kind "gpt2". Every
 * component the file names is checked: one cohx does not implement is an error naming the file,
 * the JSON field and what is supported, never a silently different tokenization. The bos/eos/pad
 * tokens come from a {@code tokenizer_config.json} beside the file when there is one.
 */
final class HfTokenizerJson {

    private HfTokenizerJson() {}

    private static final char SPACE_MARK = '\u2581';

    static HfBpeTokenizer load(Path file, JsonNode root) {
        String f = file.toString();
        JsonNode model = root.path("model");
        String type = model.path("type").asText("BPE");
        if (!type.equals("BPE")) {
            throw new TokenizerException(f + ": model.type is '" + type + "'; cohx reads tokenizer.json files with a BPE "
                    + "model (for a SentencePiece unigram model pass its tokenizer.model)");
        }
        if (!model.path("dropout").isNull() && !model.path("dropout").isMissingNode() && model.path("dropout").asDouble() != 0) {
            throw new TokenizerException(f + ": model.dropout is " + model.path("dropout") + "; cohx encodes without BPE dropout");
        }
        for (String k : new String[] {"continuing_subword_prefix", "end_of_word_suffix"}) {
            if (!model.path(k).asText("").isEmpty()) {
                throw new TokenizerException(f + ": model." + k + " is '" + model.path(k).asText() + "'; cohx implements BPE "
                        + "without subword prefixes or suffixes");
            }
        }
        JsonNode vocab = model.path("vocab");
        if (!vocab.isObject()) throw new TokenizerException(f + ": model.vocab is missing or not an object");
        Map<String, Integer> ids = new HashMap<>(vocab.size() * 2);
        int size = 0;
        for (var e : vocab.properties()) {
            if (!e.getValue().canConvertToInt() || e.getValue().asInt() < 0) {
                throw new TokenizerException(f + ": model.vocab entry '" + abbreviate(e.getKey()) + "' has id " + e.getValue()
                        + ", not a non-negative integer");
            }
            ids.put(e.getKey(), e.getValue().asInt());
            size = Math.max(size, e.getValue().asInt() + 1);
        }
        var merges = new ArrayList<String>();
        JsonNode mergeList = model.path("merges");
        if (!mergeList.isArray()) throw new TokenizerException(f + ": model.merges is missing or not an array");
        for (int i = 0; i < mergeList.size(); i++) {
            JsonNode m = mergeList.get(i);
            if (m.isTextual() && m.asText().indexOf(' ', 1) > 0) {
                merges.add(m.asText());
            } else if (m.isArray() && m.size() == 2) {
                merges.add(m.get(0).asText() + " " + m.get(1).asText());
            } else {
                throw new TokenizerException(f + ": model.merges[" + i + "] is neither \"a b\" nor [\"a\", \"b\"]: "
                        + abbreviate(m.toString()));
            }
        }
        var added = new ArrayList<AddedTokens.Token>();
        for (JsonNode a : root.path("added_tokens")) {
            if (!a.path("content").isTextual() || !a.path("id").canConvertToInt()) {
                throw new TokenizerException(f + ": an added_tokens entry lacks 'content' or 'id': " + abbreviate(a.toString()));
            }
            boolean special = a.path("special").asBoolean(false);
            added.add(new AddedTokens.Token(a.get("id").asInt(), a.get("content").asText(), special,
                    a.path("single_word").asBoolean(false), a.path("lstrip").asBoolean(false), a.path("rstrip").asBoolean(false),
                    a.path("normalized").asBoolean(!special)));
            size = Math.max(size, a.get("id").asInt() + 1);
        }
        HfNormalizer normalizer = normalizer(f, root.path("normalizer"), "normalizer");
        HfPreTokenizer pre = preTokenizer(f, root.path("pre_tokenizer"), "pre_tokenizer");
        boolean byteLevel = containsByteLevel(pre);
        var decoders = new ArrayList<HfDecoder>();
        boolean byteLevelDecoder = decoders(f, root.path("decoder"), "decoder", decoders);
        if (byteLevelDecoder != byteLevel) {
            throw new TokenizerException(f + ": " + (byteLevel ? "the pre_tokenizer is ByteLevel but the decoder is not"
                    : "the decoder is ByteLevel but the pre_tokenizer is not") + "; cohx reads files whose pre_tokenizer and "
                    + "decoder agree");
        }
        boolean byteFallback = model.path("byte_fallback").asBoolean(false);
        if (byteLevel && byteFallback) {
            throw new TokenizerException(f + ": model.byte_fallback is true in a byte-level (ByteLevel) tokenizer; cohx "
                    + "reads byte fallback only with character-level BPE");
        }
        String unk = model.path("unk_token").isTextual() ? model.path("unk_token").asText() : null;
        int unkId = unk == null ? -1 : ids.getOrDefault(unk, -1);
        for (var a : added) if (unk != null && a.content().equals(unk)) unkId = a.id();
        if (unk != null && unkId < 0) throw new TokenizerException(f + ": model.unk_token '" + unk + "' is not in the vocabulary");

        String[] pieces = new String[size];
        for (var e : ids.entrySet()) {
            if (pieces[e.getValue()] != null) {
                throw new TokenizerException(f + ": id " + e.getValue() + " is used by both '" + abbreviate(pieces[e.getValue()])
                        + "' and '" + abbreviate(e.getKey()) + "'");
            }
            pieces[e.getValue()] = e.getKey();
        }
        byte[][] tokenBytes = new byte[size][];
        for (var e : ids.entrySet()) {
            tokenBytes[e.getValue()] = byteLevel ? ByteLevelBpeLoader.unspell(e.getKey()) : e.getKey().getBytes(StandardCharsets.UTF_8);
        }
        boolean[] special = new boolean[size];
        for (var a : added) {
            pieces[a.id()] = a.content();
            special[a.id()] = a.special();
        }
        BpeModel bpe = model(f, pieces, tokenBytes, ids, merges, byteLevel, byteFallback, unkId,
                model.path("fuse_unk").asBoolean(false), model.path("ignore_merges").asBoolean(false));
        int[] specialIds = specialIds(file, root, pieces, ids, added);
        var described = describe(normalizer, pre, byteLevel, byteFallback, merges);
        return new HfBpeTokenizer(new HfBpeTokenizer.Spec(pieces, special, added, normalizer, pre, bpe, decoders,
                byteLevelDecoder, specialIds[0], specialIds[1], specialIds[2], unkId, described));
    }

    private static BpeModel model(String f, String[] pieces, byte[][] tokenBytes, Map<String, Integer> ids, List<String> merges,
            boolean byteLevel, boolean byteFallback, int unkId, boolean fuseUnk, boolean ignoreMerges) {
        int n = merges.size();
        int[] left = new int[n];
        int[] right = new int[n];
        int[] result = new int[n];
        for (int m = 0; m < n; m++) {
            String mg = merges.get(m);
            int sp = mg.indexOf(' ', 1);
            String a = mg.substring(0, sp);
            String b = mg.substring(sp + 1);
            Integer l = ids.get(a);
            Integer r = ids.get(b);
            Integer t = ids.get(a + b);
            if (l == null || r == null || t == null) {
                String missing = l == null ? a : r == null ? b : a + b;
                throw new TokenizerException(f + ": model.merges[" + m + "] '" + abbreviate(mg) + "' uses '" + abbreviate(missing)
                        + "', which is not in the vocabulary");
            }
            left[m] = l;
            right[m] = r;
            result[m] = t;
        }
        return new BpeModel(byteLevel, tokenBytes, left, right, result, byteFallback, unkId, fuseUnk, ignoreMerges, f);
    }

    // ------------------------------------------------------------------ components

    private static HfNormalizer normalizer(String f, JsonNode n, String where) {
        if (n.isMissingNode() || n.isNull()) return null;
        String type = n.path("type").asText("");
        return switch (type) {
            case "NFC" -> new HfNormalizer.Unicode(java.text.Normalizer.Form.NFC);
            case "NFD" -> new HfNormalizer.Unicode(java.text.Normalizer.Form.NFD);
            case "NFKC" -> new HfNormalizer.Unicode(java.text.Normalizer.Form.NFKC);
            case "NFKD" -> new HfNormalizer.Unicode(java.text.Normalizer.Form.NFKD);
            case "Lowercase" -> new HfNormalizer.Lowercase();
            case "Prepend" -> new HfNormalizer.Prepend(n.path("prepend").asText());
            case "Strip" -> new HfNormalizer.Strip(n.path("strip_left").asBoolean(true), n.path("strip_right").asBoolean(true));
            case "Replace" -> {
                JsonNode p = n.path("pattern");
                String content = n.path("content").asText();
                if (p.has("String")) yield new HfNormalizer.Replace(p.get("String").asText(), null, content);
                if (p.has("Regex")) yield new HfNormalizer.Replace(null, regex(f, p.get("Regex").asText(), where), content);
                throw new TokenizerException(f + ": " + where + ".pattern is neither {\"String\": ...} nor {\"Regex\": ...}");
            }
            case "Sequence" -> {
                var steps = new ArrayList<HfNormalizer>();
                JsonNode list = n.path("normalizers");
                for (int i = 0; i < list.size(); i++) {
                    HfNormalizer s = normalizer(f, list.get(i), where + ".normalizers[" + i + "]");
                    if (s != null) steps.add(s);
                }
                yield steps.isEmpty() ? null : steps.size() == 1 ? steps.getFirst() : new HfNormalizer.Sequence(steps);
            }
            default -> throw new TokenizerException(f + ": " + where + " has type '" + type + "'; cohx implements the "
                    + "normalizers NFC, NFD, NFKC, NFKD, Lowercase, Prepend, Replace, Strip and Sequence");
        };
    }

    private static HfPreTokenizer preTokenizer(String f, JsonNode n, String where) {
        if (n.isMissingNode() || n.isNull()) return new HfPreTokenizer.Whole();
        String type = n.path("type").asText("");
        return switch (type) {
            case "ByteLevel" -> new HfPreTokenizer.ByteLevel(n.path("add_prefix_space").asBoolean(false),
                    n.path("use_regex").asBoolean(true));
            case "Split" -> {
                String behavior = n.path("behavior").asText("Isolated");
                if (!behavior.equals("Isolated") || n.path("invert").asBoolean(false)) {
                    throw new TokenizerException(f + ": " + where + " is a Split with behavior '" + behavior + "' and invert "
                            + n.path("invert").asBoolean(false) + "; cohx implements behavior Isolated without invert");
                }
                JsonNode p = n.path("pattern");
                if (p.has("Regex")) {
                    String rx = p.get("Regex").asText();
                    regex(f, rx, where);
                    yield HfPreTokenizer.Split.of(rx, false);
                }
                if (p.has("String")) yield HfPreTokenizer.Split.of(p.get("String").asText(), true);
                throw new TokenizerException(f + ": " + where + ".pattern is neither {\"String\": ...} nor {\"Regex\": ...}");
            }
            case "Digits" -> new HfPreTokenizer.Digits(n.path("individual_digits").asBoolean(false));
            case "Metaspace" -> new HfPreTokenizer.Metaspace(replacement(f, n, where), scheme(f, n, where),
                    n.path("split").asBoolean(true));
            case "Sequence" -> {
                var steps = new ArrayList<HfPreTokenizer>();
                JsonNode list = n.path("pretokenizers");
                for (int i = 0; i < list.size(); i++) steps.add(preTokenizer(f, list.get(i), where + ".pretokenizers[" + i + "]"));
                steps.removeIf(s -> s instanceof HfPreTokenizer.Whole);
                yield steps.isEmpty() ? new HfPreTokenizer.Whole() : steps.size() == 1 ? steps.getFirst()
                        : new HfPreTokenizer.Sequence(steps);
            }
            default -> throw new TokenizerException(f + ": " + where + " has type '" + type + "'; cohx implements the "
                    + "pre-tokenizers ByteLevel, Split (Isolated), Digits, Metaspace and Sequence");
        };
    }

    private static char replacement(String f, JsonNode n, String where) {
        String r = n.path("replacement").asText(n.path("str_rep").asText("\u2581"));
        if (r.length() != 1) throw new TokenizerException(f + ": " + where + ".replacement '" + r + "' is not one character");
        return r.charAt(0);
    }

    private static HfPreTokenizer.PrependScheme scheme(String f, JsonNode n, String where) {
        if (!n.has("prepend_scheme")) {
            return n.path("add_prefix_space").asBoolean(true) ? HfPreTokenizer.PrependScheme.ALWAYS
                    : HfPreTokenizer.PrependScheme.NEVER;
        }
        return switch (n.path("prepend_scheme").asText()) {
            case "always" -> HfPreTokenizer.PrependScheme.ALWAYS;
            case "first" -> HfPreTokenizer.PrependScheme.FIRST;
            case "never" -> HfPreTokenizer.PrependScheme.NEVER;
            default -> throw new TokenizerException(f + ": " + where + ".prepend_scheme is '" + n.path("prepend_scheme").asText()
                    + "'; expected always, first or never");
        };
    }

    /** Parses the decoder into {@code out}; returns whether it is the byte-level decoder. */
    private static boolean decoders(String f, JsonNode n, String where, List<HfDecoder> out) {
        if (n.isMissingNode() || n.isNull()) {
            throw new TokenizerException(f + ": has no decoder; cohx needs the file's decoder to turn ids back into text");
        }
        String type = n.path("type").asText("");
        switch (type) {
            case "ByteLevel" -> {
                return true;
            }
            case "Replace" -> {
                JsonNode p = n.path("pattern");
                if (!p.has("String")) throw new TokenizerException(f + ": " + where + " replaces a regex; cohx implements string patterns");
                out.add(new HfDecoder.Replace(p.get("String").asText(), n.path("content").asText()));
            }
            case "ByteFallback" -> out.add(new HfDecoder.ByteFallback());
            case "Fuse" -> out.add(new HfDecoder.Fuse());
            case "Strip" -> {
                String c = n.path("content").asText(" ");
                if (c.length() != 1) throw new TokenizerException(f + ": " + where + ".content '" + c + "' is not one character");
                if (n.path("stop").asInt(0) != 0) {
                    throw new TokenizerException(f + ": " + where + ".stop is " + n.path("stop").asInt() + "; cohx strips the start of "
                            + "the text only (stop 0), which streaming decoding needs");
                }
                out.add(new HfDecoder.Strip(c.charAt(0), n.path("start").asInt(0), 0));
            }
            case "Metaspace" -> out.add(new HfDecoder.Metaspace(replacement(f, n, where),
                    scheme(f, n, where) != HfPreTokenizer.PrependScheme.NEVER));
            case "Sequence" -> {
                JsonNode list = n.path("decoders");
                boolean byteLevel = false;
                for (int i = 0; i < list.size(); i++) byteLevel |= decoders(f, list.get(i), where + ".decoders[" + i + "]", out);
                if (byteLevel && (!out.isEmpty() || list.size() != 1)) {
                    throw new TokenizerException(f + ": " + where + " mixes ByteLevel with other decoders; cohx reads ByteLevel alone");
                }
                return byteLevel;
            }
            default -> throw new TokenizerException(f + ": " + where + " has type '" + type + "'; cohx implements the decoders "
                    + "ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace and Sequence");
        }
        return false;
    }

    private static Pattern regex(String f, String rx, String where) {
        try {
            return Pattern.compile(rx, Pattern.UNICODE_CHARACTER_CLASS | Pattern.UNICODE_CASE);
        } catch (java.util.regex.PatternSyntaxException e) {
            throw new TokenizerException(f + ": " + where + ".pattern.Regex '" + abbreviate(rx) + "' is not a regular expression "
                    + "cohx can run: " + e.getDescription());
        }
    }

    private static boolean containsByteLevel(HfPreTokenizer p) {
        return switch (p) {
            case HfPreTokenizer.ByteLevel b -> true;
            case HfPreTokenizer.Sequence s -> s.steps().stream().anyMatch(HfTokenizerJson::containsByteLevel);
            default -> false;
        };
    }

    // ------------------------------------------------------------------ special ids

    /** bos, eos, pad: from tokenizer_config.json beside the file, else the post-processor and well-known names. */
    private static int[] specialIds(Path file, JsonNode root, String[] pieces, Map<String, Integer> ids,
            List<AddedTokens.Token> added) {
        Map<String, Integer> all = new HashMap<>(ids);
        for (var a : added) all.put(a.content(), a.id());
        int bos = -1;
        int eos = -1;
        int pad = -1;
        Path config = file.resolveSibling("tokenizer_config.json");
        if (Files.isRegularFile(config)) {
            JsonNode c = Json.read(config);
            bos = idOf(c.path("bos_token"), all);
            eos = idOf(c.path("eos_token"), all);
            pad = idOf(c.path("pad_token"), all);
            if (bos >= 0 || eos >= 0) return new int[] {bos, eos, pad};
        }
        for (JsonNode step : postProcessorSteps(root.path("post_processor"))) {
            JsonNode single = step.path("single");
            if (single.isArray() && !single.isEmpty() && single.get(0).has("SpecialToken")) {
                bos = all.getOrDefault(single.get(0).path("SpecialToken").path("id").asText(), -1);
            }
        }
        if (bos < 0) bos = firstPresent(all, "<s>", "<|begin_of_text|>", "<bos>", "<|endoftext|>");
        eos = firstPresent(all, "</s>", "<|end_of_text|>", "<eos>", "<|endoftext|>");
        return new int[] {bos, eos, pad};
    }

    private static List<JsonNode> postProcessorSteps(JsonNode p) {
        if (p.path("type").asText().equals("Sequence")) {
            var out = new ArrayList<JsonNode>();
            p.path("processors").forEach(out::add);
            return out;
        }
        return List.of(p);
    }

    private static int idOf(JsonNode token, Map<String, Integer> all) {
        String s = token.isTextual() ? token.asText() : token.path("content").isTextual() ? token.path("content").asText() : null;
        return s == null ? -1 : all.getOrDefault(s, -1);
    }

    private static int firstPresent(Map<String, Integer> all, String... names) {
        for (String n : names) if (all.containsKey(n)) return all.get(n);
        return -1;
    }

    // ------------------------------------------------------------------ GGUF names

    /** The GGUF kind and pre-tokenizer name of this pipeline, or why it has none. */
    private static HfBpeTokenizer.Described describe(HfNormalizer normalizer, HfPreTokenizer pre, boolean byteLevel,
            boolean byteFallback, List<String> merges) {
        if (byteLevel) {
            String name = preTokenizerName(normalizer, pre);
            if (name != null) return new HfBpeTokenizer.Described("gpt2", name, merges, null);
            return new HfBpeTokenizer.Described(null, null, null, "this tokenizer.json's normalizer/pre_tokenizer ("
                    + normalizer + ", " + pre + ") has no GGUF tokenizer.ggml.pre name cohx knows (gpt-2, llama-bpe, qwen2, smollm)");
        }
        boolean legacy = normalizer instanceof HfNormalizer.Sequence(var steps) && steps.size() == 2
                && steps.get(0).equals(new HfNormalizer.Prepend(String.valueOf(SPACE_MARK)))
                && steps.get(1).equals(new HfNormalizer.Replace(" ", null, String.valueOf(SPACE_MARK)))
                && pre instanceof HfPreTokenizer.Whole;
        boolean metaspace = normalizer == null && pre instanceof HfPreTokenizer.Metaspace m && m.replacement() == SPACE_MARK
                && !m.splitWords() && m.scheme() != HfPreTokenizer.PrependScheme.NEVER;
        if (byteFallback && (legacy || metaspace)) return new HfBpeTokenizer.Described("llama", "default", merges, null);
        return new HfBpeTokenizer.Described(null, null, null, "this tokenizer.json is not LLaMA-style (byte fallback with the "
                + "U+2581 space normalizer or Metaspace), so a GGUF 'llama' vocabulary cannot describe it");
    }

    private static String preTokenizerName(HfNormalizer normalizer, HfPreTokenizer pre) {
        boolean nfc = normalizer instanceof HfNormalizer.Unicode(var form) && form == java.text.Normalizer.Form.NFC;
        if (normalizer != null && !nfc) return null;
        if (pre instanceof HfPreTokenizer.ByteLevel(var prefix, var regex) && !prefix && regex && !nfc) return "gpt-2";
        if (!(pre instanceof HfPreTokenizer.Sequence(var steps)) || steps.size() != 2) return null;
        if (!(steps.get(1) instanceof HfPreTokenizer.ByteLevel(var prefix, var regex)) || prefix) return null;
        if (steps.get(0) instanceof HfPreTokenizer.Split split && !regex) {
            if (split.pattern().equals(HfPreTokenizer.LLAMA3_PATTERN) && !nfc) return "llama-bpe";
            if (split.pattern().equals(HfPreTokenizer.QWEN2_PATTERN) && nfc) return "qwen2";
        }
        if (steps.get(0) instanceof HfPreTokenizer.Digits(var individual) && individual && regex && !nfc) return "smollm";
        return null;
    }

    /** The pre-tokenizer (and normalizer) a GGUF {@code tokenizer.ggml.pre} name stands for, as Hugging Face files spell it. */
    private record Named(HfNormalizer normalizer, HfPreTokenizer pre, boolean ignoreMerges) {}

    private static Named named(String pre, String source) {
        String p = pre == null ? "default" : pre;
        return switch (p) {
            case "default", "gpt2", "gpt-2" -> new Named(null, new HfPreTokenizer.ByteLevel(false, true), false);
            case "llama-bpe", "llama3", "llama-v3" -> new Named(null, new HfPreTokenizer.Sequence(List.of(
                    HfPreTokenizer.Split.of(HfPreTokenizer.LLAMA3_PATTERN, false), new HfPreTokenizer.ByteLevel(false, false))), true);
            case "smollm", "starcoder" -> new Named(null, new HfPreTokenizer.Sequence(List.of(
                    new HfPreTokenizer.Digits(true), new HfPreTokenizer.ByteLevel(false, true))), false);
            case "qwen2" -> new Named(new HfNormalizer.Unicode(java.text.Normalizer.Form.NFC), new HfPreTokenizer.Sequence(List.of(
                    HfPreTokenizer.Split.of(HfPreTokenizer.QWEN2_PATTERN, false), new HfPreTokenizer.ByteLevel(false, false))), false);
            default -> throw new TokenizerException(source + ": pre-tokenizer '" + p + "' (tokenizer.ggml.pre) is not one cohx "
                    + "implements; supported: default, gpt2, gpt-2, llama-bpe, llama3, llama-v3, smollm, starcoder, qwen2");
        };
    }

    /** A byte-level BPE tokenizer from a vocabulary of kind "gpt2": tokens, merges, types and the named pre-tokenizer. */
    static HfBpeTokenizer fromVocabulary(Vocabulary v, String source) {
        Named named = named(v.preTokenizer(), source);
        List<String> tokens = v.tokens();
        if (tokens == null || tokens.isEmpty()) throw new TokenizerException(source + ": the vocabulary has no tokens");
        if (v.merges() == null) throw new TokenizerException(source + ": a 'gpt2' vocabulary needs merges (tokenizer.ggml.merges)");
        if (v.tokenTypes() != null && v.tokenTypes().length != tokens.size()) {
            throw new TokenizerException(source + ": " + v.tokenTypes().length + " token types for " + tokens.size() + " tokens");
        }
        int size = tokens.size();
        String[] pieces = tokens.toArray(String[]::new);
        Map<String, Integer> ids = new HashMap<>(size * 2);
        byte[][] tokenBytes = new byte[size][];
        boolean[] special = new boolean[size];
        var added = new ArrayList<AddedTokens.Token>();
        for (int i = 0; i < size; i++) {
            ids.putIfAbsent(pieces[i], i);
            tokenBytes[i] = ByteLevelBpeLoader.unspell(pieces[i]);
            int type = v.tokenTypes() == null ? 1 : v.tokenTypes()[i];
            if (type == 3 || type == 4) {
                special[i] = type == 3;
                added.add(new AddedTokens.Token(i, pieces[i], type == 3, false, false, false, false));
            }
        }
        BpeModel bpe = model(source, pieces, tokenBytes, ids, v.merges(), true, false, -1, false, named.ignoreMerges());
        String name = preTokenizerName(named.normalizer(), named.pre());
        return new HfBpeTokenizer(new HfBpeTokenizer.Spec(pieces, special, added, named.normalizer(), named.pre(), bpe, List.of(),
                true, v.bosId(), v.eosId(), v.padId(), -1, new HfBpeTokenizer.Described("gpt2", name, v.merges(), null)));
    }

    private static String abbreviate(String s) {
        return s.length() <= 60 ? s : s.substring(0, 57) + "...";
    }
}
