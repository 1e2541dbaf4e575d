package io.cohx.models.tokenizer;

import java.util.Arrays;

/**
 * The BPE model of a Hugging Face {@code tokenizer.json}: one word (the UTF-8 bytes of a
 * pre-tokenized piece) in, token ids out. A word starts as one symbol per byte (byte-level
 * models: GPT-2, Llama 3, Qwen, SmolLM) or per character (LLaMA/Mistral-style models, where a
 * character outside the vocabulary becomes its {@code <0xNN>} byte tokens with byte fallback, or
 * the unknown token, consecutive unknowns fused into one). Then the adjacent pair with the lowest
 * merge rank is merged, leftmost first, until no pair has a merge: Hugging Face's order exactly.
 */
final class BpeModel {

    private final boolean byteLevel;
    private final ByteSliceMap tokenIds; // token bytes (byte-level: the bytes it stands for; else its UTF-8) -> id
    private final int[] byteToId; // byte-level: the initial symbol of each byte
    private final int[] byteFallback; // char-level: id of <0xNN>, or null without byte fallback
    private final int unkId;
    private final boolean fuseUnk;
    private final boolean ignoreMerges;
    private final BpeMerges merges;
    private final ByteSliceMap wholeTokens; // words that BPE provably turns into one token

    /**
     * @param tokenBytes per id, the bytes a token matches in the model's input (null for ids the
     *     model itself never produces, such as added tokens outside the vocabulary)
     */
    BpeModel(boolean byteLevel, byte[][] tokenBytes, int[] mergeLeft, int[] mergeRight, int[] mergeResult,
            boolean byteFallbackOn, int unkId, boolean fuseUnk, boolean ignoreMerges, String file) {
        this.byteLevel = byteLevel;
        this.unkId = unkId;
        this.fuseUnk = fuseUnk;
        this.ignoreMerges = ignoreMerges;
        var keys = new java.util.ArrayList<byte[]>();
        var ids = new IntList(tokenBytes.length);
        for (int i = 0; i < tokenBytes.length; i++) {
            if (tokenBytes[i] != null && tokenBytes[i].length > 0) {
                keys.add(tokenBytes[i]);
                ids.add(i);
            }
        }
        this.tokenIds = new ByteSliceMap(keys.toArray(byte[][]::new), ids.toArray());
        if (byteLevel) {
            // A byte without a token (SmolLM's vocabulary lacks some control bytes) is dropped, as the reference does.
            byteToId = new int[256];
            for (int b = 0; b < 256; b++) byteToId[b] = tokenIds.get(new byte[] {(byte) b});
            byteFallback = null;
        } else {
            byteToId = null;
            if (byteFallbackOn) {
                byteFallback = new int[256];
                for (int b = 0; b < 256; b++) {
                    byteFallback[b] = tokenIds.get(String.format("<0x%02X>", b).getBytes(java.nio.charset.StandardCharsets.UTF_8));
                }
            } else {
                byteFallback = null;
            }
        }
        int[] mergeRank = new int[mergeLeft.length]; // tokenizer.json lists merges in rank order
        for (int m = 0; m < mergeRank.length; m++) mergeRank[m] = m;
        this.merges = new BpeMerges(mergeLeft, mergeRight, mergeRank, mergeResult);
        // Whole-token shortcut: a word equal to a token that BPE rebuilds from its symbols.
        var wk = new java.util.ArrayList<byte[]>();
        var wi = new IntList(tokenBytes.length);
        var out = new IntList(8);
        for (int i = 0; i < tokenBytes.length; i++) {
            byte[] t = tokenBytes[i];
            if (t == null || t.length < 2) continue;
            if (!ignoreMerges) {
                out.clear();
                encodeSymbols(t, 0, t.length, out);
                if (out.size() != 1 || out.get(0) != i) continue;
            }
            wk.add(t);
            wi.add(i);
        }
        this.wholeTokens = new ByteSliceMap(wk.toArray(byte[][]::new), wi.toArray());
    }

    boolean byteLevel() {
        return byteLevel;
    }

    /** Appends the ids of the word {@code s[from, to)}. */
    void encode(byte[] s, int from, int to, IntList out) {
        if (to <= from) return;
        if (byteLevel && to - from == 1) {
            if (byteToId[s[from] & 0xFF] >= 0) out.add(byteToId[s[from] & 0xFF]);
            return;
        }
        int whole = wholeTokens.get(s, from, to);
        if (whole >= 0) {
            out.add(whole);
            return;
        }
        encodeSymbols(s, from, to, out);
    }

    private void encodeSymbols(byte[] s, int from, int to, IntList out) {
        int[] ids = initialSymbols(s, from, to);
        merges.merge(ids, ids.length, out);
    }

    /** One symbol per byte (byte-level) or per character, with byte fallback and fused unknowns as Hugging Face does. */
    private int[] initialSymbols(byte[] s, int from, int to) {
        if (byteLevel) {
            int[] ids = new int[to - from];
            int n = 0;
            for (int i = from; i < to; i++) if (byteToId[s[i] & 0xFF] >= 0) ids[n++] = byteToId[s[i] & 0xFF];
            return n == ids.length ? ids : Arrays.copyOf(ids, n);
        }
        var ids = new IntList(to - from);
        int pendingUnk = -1; // an unknown waiting to be added (fused with following unknowns)
        for (int pos = from; pos < to; ) {
            int len = Math.min(Utf8.charLength(s[pos]), to - pos);
            int id = tokenIds.get(s, pos, pos + len);
            if (id >= 0) {
                if (pendingUnk >= 0) {
                    ids.add(pendingUnk);
                    pendingUnk = -1;
                }
                ids.add(id);
            } else if (byteFallback != null && allBytesKnown(s, pos, pos + len)) {
                for (int k = pos; k < pos + len; k++) ids.add(byteFallback[s[k] & 0xFF]);
            } else if (unkId >= 0) { // without an unk_token the character is dropped, as the reference does
                if (pendingUnk >= 0 && !fuseUnk) ids.add(pendingUnk);
                pendingUnk = unkId;
            }
            pos += len;
        }
        if (pendingUnk >= 0) ids.add(pendingUnk);
        return ids.toArray();
    }

    private boolean allBytesKnown(byte[] s, int from, int to) {
        for (int k = from; k < to; k++) if (byteFallback[s[k] & 0xFF] < 0) return false;
        return true;
    }
}
