package io.cohx.models.tokenizer;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * GPT-2 style byte-level BPE (GPT-2, GPT-J): text is split by GPT-2's pre-tokenization pattern,
 * each piece's UTF-8 bytes start as one token per byte, and adjacent tokens are merged by
 * priority (lowest first, leftmost on ties) until no merge applies. Matches tiktoken and Hugging
 * Face tokenizers token for token. Special tokens ({@code <|endoftext|>}, GPT-J's
 * {@code <|extratoken_N|>}) come from text only with {@link SpecialTokens#PARSE} and are skipped
 * by {@link #decode}.
 * Build it with {@link ByteLevelBpeLoader} or {@link Tokenizers#load}; immutable and thread-safe.
 */
public final class ByteLevelBpeTokenizer implements Tokenizer {

    private final String[] pieces; // byte-level spelling (Ġ for space) or special-token text
    private final byte[][] tokenBytes; // null for special tokens
    private final Map<String, Integer> pieceIds;
    private final int[] byteToId;
    private final BpeMerges merges;
    private final int[] mergePriority; // kept for vocabulary()
    private final ByteSliceMap wholeTokens; // pieces that BPE provably turns into one token
    private final List<AddedToken> plainAddedTokens; // non-special added tokens, matched in text
    private final List<AddedToken> allAddedTokens; // also the special ones, matched with SpecialTokens.PARSE
    private final int[] mergeLeft; // kept for vocabulary()
    private final int[] mergeRight;
    private final int bosId;
    private final int eosId;
    private final int padId;

    /** An added token: matched as a whole in text unless {@code special}, never split by BPE. */
    record AddedToken(int id, String content, boolean special) {}

    ByteLevelBpeTokenizer(String[] pieces, byte[][] tokenBytes, int[] mergeLeft, int[] mergeRight, int[] mergePriority,
            int[] mergeResult, boolean shortcutAll, List<AddedToken> added, int bosId, int eosId, int padId, String file) {
        this.pieces = pieces;
        this.tokenBytes = tokenBytes;
        this.pieceIds = new HashMap<>(pieces.length * 2);
        for (int i = 0; i < pieces.length; i++) {
            if (pieces[i] != null) pieceIds.putIfAbsent(pieces[i], i);
        }
        this.byteToId = new int[256];
        Arrays.fill(byteToId, -1);
        for (int i = 0; i < tokenBytes.length; i++) {
            if (tokenBytes[i] != null && tokenBytes[i].length == 1 && byteToId[tokenBytes[i][0] & 0xFF] < 0) {
                byteToId[tokenBytes[i][0] & 0xFF] = i;
            }
        }
        for (int b = 0; b < 256; b++) {
            if (byteToId[b] < 0) {
                throw new TokenizerException(file + ": the vocabulary has no token for byte 0x" + Integer.toHexString(b)
                        + "; a byte-level BPE vocabulary must cover all 256 bytes");
            }
        }
        this.merges = new BpeMerges(mergeLeft, mergeRight, mergePriority, mergeResult);
        this.mergePriority = mergePriority;
        this.plainAddedTokens = added.stream().filter(a -> !a.special()).toList();
        this.allAddedTokens = List.copyOf(added);
        this.mergeLeft = mergeLeft;
        this.mergeRight = mergeRight;
        this.bosId = bosId;
        this.eosId = eosId;
        this.padId = padId;
        // A piece equal to a whole token skips BPE when BPE would give that token anyway (always
        // true for tiktoken, which looks pieces up first; checked per token for merge lists).
        var keys = new java.util.ArrayList<byte[]>();
        var ids = new IntList(tokenBytes.length);
        for (int i = 0; i < tokenBytes.length; i++) {
            byte[] t = tokenBytes[i];
            if (t == null || t.length < 2) continue;
            if (shortcutAll) {
                keys.add(t);
                ids.add(i);
            } else {
                var out = new IntList(4);
                bpe(t, 0, t.length, out);
                if (out.size() == 1 && out.get(0) == i) {
                    keys.add(t);
                    ids.add(i);
                }
            }
        }
        this.wholeTokens = new ByteSliceMap(keys.toArray(byte[][]::new), ids.toArray());
    }

    @Override
    public int[] encode(String text, SpecialTokens specials) {
        var out = new IntList(text.length() / 3 + 4);
        List<AddedToken> matched = specials == SpecialTokens.PARSE ? allAddedTokens : plainAddedTokens;
        if (matched.isEmpty()) {
            encodeOrdinary(text, out);
        } else {
            encodeWithAddedTokens(text, out, matched);
        }
        return out.toArray();
    }

    private void encodeWithAddedTokens(String text, IntList out, List<AddedToken> matched) {
        int pos = 0;
        while (pos < text.length()) {
            int best = -1;
            AddedToken hit = null;
            for (AddedToken a : matched) {
                int at = text.indexOf(a.content(), pos);
                if (at >= 0 && (best < 0 || at < best || at == best && a.content().length() > hit.content().length())) {
                    best = at;
                    hit = a;
                }
            }
            if (hit == null) {
                encodeOrdinary(text.substring(pos), out);
                return;
            }
            if (best > pos) encodeOrdinary(text.substring(pos, best), out);
            out.add(hit.id());
            pos = best + hit.content().length();
        }
    }

    private void encodeOrdinary(String text, IntList out) {
        byte[] utf8 = Utf8.encode(text);
        if (utf8.length == text.length()) {
            // ASCII: UTF-16 ranges are byte ranges.
            Gpt2PreTokenizer.split(text, (from, to) -> encodePiece(utf8, from, to, out));
        } else {
            var offsets = new int[] {0, 0}; // {utf16 position, byte position}
            Gpt2PreTokenizer.split(text, (from, to) -> {
                int start = offsets[1];
                int b = start;
                for (int k = offsets[0]; k < to; ) {
                    int cp = text.codePointAt(k);
                    b += utf8Length(cp, text, k);
                    k += Character.charCount(cp);
                }
                offsets[0] = to;
                offsets[1] = b;
                encodePiece(utf8, start, b, out);
            });
        }
    }

    private static int utf8Length(int cp, String text, int k) {
        if (cp < 0x80) return 1;
        if (cp < 0x800) return 2;
        if (Character.isSurrogate(text.charAt(k)) && cp < 0x10000) return 3; // unpaired: encoded as U+FFFD
        return cp < 0x10000 ? 3 : 4;
    }

    private void encodePiece(byte[] s, int from, int to, IntList out) {
        if (to - from == 1) {
            out.add(byteToId[s[from] & 0xFF]);
            return;
        }
        int whole = wholeTokens.get(s, from, to);
        if (whole >= 0) {
            out.add(whole);
            return;
        }
        bpe(s, from, to, out);
    }

    private void bpe(byte[] s, int from, int to, IntList out) {
        int n = to - from;
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) ids[i] = byteToId[s[from + i] & 0xFF];
        merges.merge(ids, n, out);
    }

    @Override
    public String decode(int[] ids) {
        var bytes = new SentencePieceNormalizer.ByteBuilder(ids.length * 4);
        for (int id : ids) {
            checkId(id);
            if (tokenBytes[id] != null) bytes.addAll(tokenBytes[id]);
        }
        return new String(bytes.toArray(), StandardCharsets.UTF_8);
    }

    private void checkId(int id) {
        if (id < 0 || id >= pieces.length || pieces[id] == null) {
            throw new IllegalArgumentException("token id " + id + " is not in the vocabulary (size " + pieces.length + ")");
        }
    }

    @Override
    public IncrementalDecoder incrementalDecoder() {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPLACE)
                .onUnmappableCharacter(CodingErrorAction.REPLACE);
        return new IncrementalDecoder() {
            private ByteBuffer pending = ByteBuffer.allocate(64);

            @Override
            public String push(int id) {
                checkId(id);
                byte[] b = tokenBytes[id];
                if (b == null) return "";
                if (pending.remaining() < b.length) {
                    var bigger = ByteBuffer.allocate(Math.max(pending.capacity() * 2, pending.position() + b.length));
                    pending.flip();
                    bigger.put(pending);
                    pending = bigger;
                }
                pending.put(b);
                return drain(false);
            }

            @Override
            public String flush() {
                String s = drain(true);
                decoder.reset();
                return s;
            }

            private String drain(boolean end) {
                pending.flip();
                var out = CharBuffer.allocate(pending.remaining() * 2 + 2);
                decoder.decode(pending, out, end);
                if (end) decoder.flush(out);
                pending.compact();
                return out.flip().toString();
            }
        };
    }

    /** Kind "gpt2" with GPT-2's pre-tokenizer; merges in priority order; added tokens as control (special) or user-defined. */
    @Override
    public Vocabulary vocabulary() {
        var types = new int[pieces.length];
        Arrays.fill(types, 1);
        for (AddedToken a : allAddedTokens) types[a.id()] = a.special() ? 3 : 4;
        Integer[] order = new Integer[mergeLeft.length];
        for (int m = 0; m < order.length; m++) order[m] = m;
        Arrays.sort(order, (a, b) -> Integer.compare(mergePriority[a], mergePriority[b]));
        var mergeList = new java.util.ArrayList<String>(order.length);
        for (int m : order) mergeList.add(pieces[mergeLeft[m]] + " " + pieces[mergeRight[m]]);
        return new Vocabulary("gpt2", "gpt-2", List.of(pieces), null, types, mergeList, bosId, eosId, padId, -1, false, false);
    }

    @Override
    public int vocabSize() {
        return pieces.length;
    }

    @Override
    public int bosId() {
        return bosId;
    }

    @Override
    public int eosId() {
        return eosId;
    }

    @Override
    public int padId() {
        return padId;
    }

    @Override
    public String idToPiece(int id) {
        checkId(id);
        return pieces[id];
    }

    @Override
    public int pieceToId(String piece) {
        Integer id = pieceIds.get(piece);
        return id == null ? -1 : id;
    }
}
