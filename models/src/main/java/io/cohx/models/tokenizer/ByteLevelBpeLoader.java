package io.cohx.models.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds {@link ByteLevelBpeTokenizer}s from the two places GPT-2's own vocabulary comes in: the
 * original {@code vocab.json} + {@code merges.txt} (alias {@code encoder.json} + {@code vocab.bpe}),
 * and the {@code r50k_base} ranks bundled in
 * jtokkit (built-in names {@code gpt2} and {@code gptj}; the latter adds GPT-J's 143
 * {@code <|extratoken_N|>} ids up to 50400). Every format error names the file and the field.
 */
public final class ByteLevelBpeLoader {

    /** GPT-2's end-of-text token, also GPT-J's bos and eos. */
    public static final String END_OF_TEXT = "<|endoftext|>";
    /** GPT-J's padded vocabulary size. */
    public static final int GPTJ_VOCAB_SIZE = 50400;

    private static final String R50K_RESOURCE = "/com/knuddels/jtokkit/r50k_base.tiktoken";

    private ByteLevelBpeLoader() {}

    /** GPT-2's byte ↔ printable character table: each byte is spelled as one visible code point. */
    static final char[] BYTE_TO_CHAR = new char[256];
    private static final int[] CHAR_TO_BYTE = new int[324];

    static {
        java.util.Arrays.fill(CHAR_TO_BYTE, -1);
        int extra = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = printable ? (char) b : (char) (256 + extra++);
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
    }

    static String spell(byte[] bytes) {
        var sb = new StringBuilder(bytes.length);
        for (byte b : bytes) sb.append(BYTE_TO_CHAR[b & 0xFF]);
        return sb.toString();
    }

    /** Bytes of a byte-level spelled token, or null if it contains a character outside the table. */
    static byte[] unspell(String token) {
        byte[] out = new byte[token.length()];
        for (int i = 0; i < token.length(); i++) {
            char c = token.charAt(i);
            if (c >= CHAR_TO_BYTE.length || CHAR_TO_BYTE[c] < 0) return null;
            out[i] = (byte) CHAR_TO_BYTE[c];
        }
        return out;
    }

    /** GPT-2 (vocabulary 50257) from jtokkit's bundled {@code r50k_base}. */
    public static ByteLevelBpeTokenizer gpt2() {
        return fromTiktokenRanks(false);
    }

    /** GPT-J: GPT-2's ranks plus {@code <|extratoken_1|>}..{@code <|extratoken_143|>}, vocabulary 50400. */
    public static ByteLevelBpeTokenizer gptj() {
        return fromTiktokenRanks(true);
    }

    private static ByteLevelBpeTokenizer fromTiktokenRanks(boolean gptj) {
        String file = "jtokkit:" + R50K_RESOURCE;
        var tokens = new ArrayList<byte[]>();
        try (InputStream in = com.knuddels.jtokkit.Encodings.class.getResourceAsStream(R50K_RESOURCE)) {
            if (in == null) throw new TokenizerException(file + ": resource missing; is jtokkit 1.1.0 on the class path?");
            var reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII));
            String line;
            int lineNo = 0;
            while ((line = reader.readLine()) != null) {
                lineNo++;
                if (line.isEmpty()) continue;
                int sp = line.indexOf(' ');
                int rank = Integer.parseInt(line.substring(sp + 1));
                if (rank != tokens.size()) throw new TokenizerException(file + ":" + lineNo + ": rank " + rank + " out of order");
                tokens.add(Base64.getDecoder().decode(line.substring(0, sp)));
            }
        } catch (IOException e) {
            throw new TokenizerException(file + ": cannot read: " + e.getMessage(), e);
        }
        int base = tokens.size(); // 50256
        int size = gptj ? GPTJ_VOCAB_SIZE : base + 1;
        String[] pieces = new String[size];
        byte[][] bytes = new byte[size][];
        var ids = new BytesIndex();
        for (int i = 0; i < base; i++) {
            bytes[i] = tokens.get(i);
            pieces[i] = spell(bytes[i]);
            ids.put(bytes[i], i);
        }
        var added = new ArrayList<ByteLevelBpeTokenizer.AddedToken>();
        pieces[base] = END_OF_TEXT;
        added.add(new ByteLevelBpeTokenizer.AddedToken(base, END_OF_TEXT, true));
        for (int i = base + 1; i < size; i++) {
            pieces[i] = "<|extratoken_" + (i - base) + "|>";
            added.add(new ByteLevelBpeTokenizer.AddedToken(i, pieces[i], true));
        }
        // tiktoken may merge any two adjacent parts whose concatenation is a token, by the rank of that token.
        var left = new IntList(base * 4);
        var right = new IntList(base * 4);
        var priority = new IntList(base * 4);
        var result = new IntList(base * 4);
        for (int t = 0; t < base; t++) {
            byte[] b = bytes[t];
            for (int k = 1; k < b.length; k++) {
                int l = ids.get(b, 0, k);
                int r = ids.get(b, k, b.length);
                if (l >= 0 && r >= 0) {
                    left.add(l);
                    right.add(r);
                    priority.add(t);
                    result.add(t);
                }
            }
        }
        return new ByteLevelBpeTokenizer(pieces, bytes, left.toArray(), right.toArray(), priority.toArray(),
                result.toArray(), true, added, base, base, -1, file);
    }

    /** GPT-2's original files: {@code vocab.json} (alias encoder.json) and {@code merges.txt} (alias vocab.bpe). */
    public static ByteLevelBpeTokenizer fromVocabAndMerges(Path vocabJson, Path mergesTxt) {
        JsonNode vocab = Json.read(vocabJson);
        if (!vocab.isObject()) {
            throw new TokenizerException(vocabJson + ": expected a JSON object mapping tokens to ids, found " + vocab.getNodeType());
        }
        List<String[]> merges = new ArrayList<>();
        List<String> lines;
        try {
            lines = Files.readAllLines(mergesTxt, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new TokenizerException(mergesTxt + ": no such file; vocab.json needs its merges.txt beside it", e);
        } catch (IOException e) {
            throw new TokenizerException(mergesTxt + ": cannot read as UTF-8 text: " + e.getMessage(), e);
        }
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isEmpty() || (i == 0 && line.startsWith("#version"))) continue;
            String[] parts = line.split(" ");
            if (parts.length != 2) {
                throw new TokenizerException(mergesTxt + ":" + (i + 1) + ": expected two tokens separated by one space, found '"
                        + abbreviate(line) + "'");
            }
            merges.add(new String[] {parts[0], parts[1], mergesTxt + ":" + (i + 1)});
        }
        return build(vocab, merges, List.of(new AddedSpec(END_OF_TEXT, -1, true)), false, vocabJson.toString());
    }

    private record AddedSpec(String content, int id, boolean special) {}

    private static ByteLevelBpeTokenizer build(JsonNode vocab, List<String[]> merges, List<AddedSpec> addedSpecs,
            boolean ignoreMerges, String file) {
        int size = 0;
        Map<String, Integer> ids = new HashMap<>();
        for (var e : vocab.properties()) {
            if (!e.getValue().canConvertToInt() || e.getValue().asInt() < 0) {
                throw new TokenizerException(file + ": vocabulary entry '" + abbreviate(e.getKey()) + "' has id "
                        + e.getValue() + ", not a non-negative integer");
            }
            ids.put(e.getKey(), e.getValue().asInt());
            size = Math.max(size, e.getValue().asInt() + 1);
        }
        for (AddedSpec a : addedSpecs) size = Math.max(size, a.id() + 1);
        String[] pieces = new String[size];
        byte[][] bytes = new byte[size][];
        var special = new java.util.HashSet<String>();
        for (AddedSpec a : addedSpecs) if (a.special()) special.add(a.content());
        for (var e : ids.entrySet()) {
            int id = e.getValue();
            if (pieces[id] != null) {
                throw new TokenizerException(file + ": id " + id + " is used by both '" + pieces[id] + "' and '" + e.getKey() + "'");
            }
            pieces[id] = e.getKey();
            bytes[id] = special.contains(e.getKey()) ? null : unspell(e.getKey());
            if (bytes[id] == null && !special.contains(e.getKey())) {
                bytes[id] = e.getKey().getBytes(StandardCharsets.UTF_8); // a plain added token inside the vocab
            }
        }
        var added = new ArrayList<ByteLevelBpeTokenizer.AddedToken>();
        for (AddedSpec a : addedSpecs) {
            int id = a.id() >= 0 ? a.id() : ids.getOrDefault(a.content(), -1);
            if (id < 0) continue; // vocab.json without <|endoftext|>
            if (pieces[id] != null && !pieces[id].equals(a.content())) {
                throw new TokenizerException(file + ": added token '" + a.content() + "' has id " + id
                        + ", which the vocabulary gives to '" + pieces[id] + "'");
            }
            pieces[id] = a.content();
            bytes[id] = a.special() ? null : a.content().getBytes(StandardCharsets.UTF_8);
            added.add(new ByteLevelBpeTokenizer.AddedToken(id, a.content(), a.special()));
        }
        var left = new IntList(merges.size());
        var right = new IntList(merges.size());
        var priority = new IntList(merges.size());
        var result = new IntList(merges.size());
        for (int m = 0; m < merges.size(); m++) {
            String[] mg = merges.get(m);
            Integer l = ids.get(mg[0]);
            Integer r = ids.get(mg[1]);
            Integer t = ids.get(mg[0] + mg[1]);
            if (l == null || r == null || t == null) {
                String missing = l == null ? mg[0] : r == null ? mg[1] : mg[0] + mg[1];
                throw new TokenizerException(mg[2] + ": merge '" + abbreviate(mg[0] + " " + mg[1]) + "' uses '"
                        + abbreviate(missing) + "', which is not in the vocabulary");
            }
            left.add(l);
            right.add(r);
            priority.add(m);
            result.add(t);
        }
        int eot = ids.getOrDefault(END_OF_TEXT, -1);
        for (var a : added) if (a.content().equals(END_OF_TEXT)) eot = a.id();
        for (int i = 0; i < size; i++) {
            if (pieces[i] == null) throw new TokenizerException(file + ": no token has id " + i + "; ids must be 0.." + (size - 1));
        }
        return new ByteLevelBpeTokenizer(pieces, bytes, left.toArray(), right.toArray(), priority.toArray(),
                result.toArray(), ignoreMerges, added, eot, eot, -1, file);
    }

    private static String abbreviate(String s) {
        return s.length() <= 60 ? s : s.substring(0, 57) + "...";
    }

    /** Token bytes → id, for finding merge pairs in tiktoken ranks. */
    private static final class BytesIndex {
        private final Map<String, Integer> map = new HashMap<>();

        void put(byte[] b, int id) {
            map.put(new String(b, StandardCharsets.ISO_8859_1), id);
        }

        int get(byte[] b, int from, int to) {
            Integer id = map.get(new String(b, from, to - from, StandardCharsets.ISO_8859_1));
            return id == null ? -1 : id;
        }
    }
}
