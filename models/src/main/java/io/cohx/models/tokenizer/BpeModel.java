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

    private static final int SHORT = 48; // words up to this many symbols use the allocation-light quadratic loop

    private final boolean byteLevel;
    private final ByteSliceMap tokenIds; // token bytes (byte-level: the bytes it stands for; else its UTF-8) -> id
    private final int[] byteToId; // byte-level: the initial symbol of each byte
    private final int[] byteFallback; // char-level: id of <0xNN>, or null without byte fallback
    private final int unkId;
    private final boolean fuseUnk;
    private final boolean ignoreMerges;
    private final LongIntMap merges; // (left << 32 | right) -> merge index
    private final int[] mergeRank;
    private final int[] mergeResult;
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
        this.merges = new LongIntMap(mergeLeft.length);
        this.mergeRank = new int[mergeLeft.length];
        this.mergeResult = mergeResult;
        for (int m = 0; m < mergeLeft.length; m++) {
            mergeRank[m] = m;
            merges.putIfAbsent(((long) mergeLeft[m] << 32) | mergeRight[m], m);
        }
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
        int n = ids.length;
        if (n <= SHORT) mergeShort(ids, n, out);
        else mergeLong(ids, n, out);
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

    private int mergeOf(int left, int right) {
        return merges.get(((long) left << 32) | right, -1);
    }

    /** Quadratic but allocation-light: the common case of a word-sized piece. */
    private void mergeShort(int[] ids, int n, IntList out) {
        if (n == 0) return;
        int[] rank = new int[n]; // rank of merging ids[i] with ids[i+1]
        int[] res = new int[n];
        for (int i = 0; i + 1 < n; i++) setPair(ids, rank, res, i);
        rank[n - 1] = Integer.MAX_VALUE;
        while (n > 1) {
            int best = -1;
            int bestRank = Integer.MAX_VALUE;
            for (int i = 0; i + 1 < n; i++) {
                if (rank[i] < bestRank) {
                    bestRank = rank[i];
                    best = i;
                }
            }
            if (best < 0) break;
            ids[best] = res[best];
            System.arraycopy(ids, best + 2, ids, best + 1, n - best - 2);
            System.arraycopy(rank, best + 2, rank, best + 1, n - best - 2);
            System.arraycopy(res, best + 2, res, best + 1, n - best - 2);
            n--;
            rank[n - 1] = Integer.MAX_VALUE;
            if (best + 1 < n) setPair(ids, rank, res, best);
            else rank[best] = Integer.MAX_VALUE;
            if (best > 0) setPair(ids, rank, res, best - 1);
        }
        for (int i = 0; i < n; i++) out.add(ids[i]);
    }

    private void setPair(int[] ids, int[] rank, int[] res, int i) {
        int m = mergeOf(ids[i], ids[i + 1]);
        if (m < 0) {
            rank[i] = Integer.MAX_VALUE;
        } else {
            rank[i] = mergeRank[m];
            res[i] = mergeResult[m];
        }
    }

    /** Heap-based, O(n log n), for long words (a LLaMA-style text has no pre-tokenizer: the whole text is one word). */
    private void mergeLong(int[] ids, int n, IntList out) {
        int[] prev = new int[n];
        int[] next = new int[n];
        boolean[] dead = new boolean[n];
        for (int i = 0; i < n; i++) {
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        var heap = new CandidateHeap(n);
        for (int i = 0; i + 1 < n; i++) push(heap, ids, i, i + 1);
        while (heap.size > 0) {
            int e = heap.pop();
            int l = heap.left[e];
            int r = heap.right[e];
            if (dead[l] || dead[r] || next[l] != r || ids[l] != heap.leftId[e] || ids[r] != heap.rightId[e]) continue;
            ids[l] = heap.result[e];
            dead[r] = true;
            next[l] = next[r];
            if (next[r] >= 0) prev[next[r]] = l;
            if (prev[l] >= 0) push(heap, ids, prev[l], l);
            if (next[l] >= 0) push(heap, ids, l, next[l]);
        }
        for (int i = 0; i >= 0; i = next[i]) out.add(ids[i]);
    }

    private void push(CandidateHeap heap, int[] ids, int l, int r) {
        int m = mergeOf(ids[l], ids[r]);
        if (m >= 0) heap.push(mergeRank[m], l, r, ids[l], ids[r], mergeResult[m]);
    }

    /** Min-heap of merge candidates by (rank, left position); the ids detect entries gone stale. */
    private static final class CandidateHeap {
        int[] rank;
        int[] left;
        int[] right;
        int[] leftId;
        int[] rightId;
        int[] result;
        int[] heap;
        int size;
        int used;

        CandidateHeap(int capacity) {
            int c = Math.max(16, capacity * 2);
            rank = new int[c];
            left = new int[c];
            right = new int[c];
            leftId = new int[c];
            rightId = new int[c];
            result = new int[c];
            heap = new int[c];
        }

        void push(int rk, int l, int r, int lid, int rid, int res) {
            if (used == rank.length) {
                int c = used * 2;
                rank = Arrays.copyOf(rank, c);
                left = Arrays.copyOf(left, c);
                right = Arrays.copyOf(right, c);
                leftId = Arrays.copyOf(leftId, c);
                rightId = Arrays.copyOf(rightId, c);
                result = Arrays.copyOf(result, c);
            }
            if (size == heap.length) heap = Arrays.copyOf(heap, size * 2);
            int e = used++;
            rank[e] = rk;
            left[e] = l;
            right[e] = r;
            leftId[e] = lid;
            rightId[e] = rid;
            result[e] = res;
            int i = size++;
            while (i > 0) {
                int p = (i - 1) >>> 1;
                if (!before(e, heap[p])) break;
                heap[i] = heap[p];
                i = p;
            }
            heap[i] = e;
        }

        int pop() {
            int top = heap[0];
            int last = heap[--size];
            int i = 0;
            while (true) {
                int c = 2 * i + 1;
                if (c >= size) break;
                if (c + 1 < size && before(heap[c + 1], heap[c])) c++;
                if (!before(heap[c], last)) break;
                heap[i] = heap[c];
                i = c;
            }
            if (size > 0) heap[i] = last;
            return top;
        }

        private boolean before(int a, int b) {
            return rank[a] < rank[b] || (rank[a] == rank[b] && left[a] < left[b]);
        }
    }
}
