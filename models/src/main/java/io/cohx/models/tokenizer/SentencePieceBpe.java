package io.cohx.models.tokenizer;

import io.cohx.models.tokenizer.proto.SentencePieceModelProtos.ModelProto.SentencePiece.Type;
import java.util.HashMap;
import java.util.Map;

/**
 * SentencePiece BPE: start from characters (user-defined pieces stay whole), repeatedly merge the
 * adjacent pair whose concatenation is the highest-scoring piece (leftmost on ties), then split
 * any UNUSED piece back into the pieces it was merged from. A binary heap over pair candidates
 * keeps it O(n log n) on long inputs.
 */
final class SentencePieceBpe implements SentencePieceModel {

    private final ByteSliceMap pieces;
    private final float[] scores;
    private final boolean[] unused;
    private final boolean hasUnused;
    private final SentencePieceNormalizer.UserDefinedMatcher userDefined;
    private final boolean splitAtSpaces;

    SentencePieceBpe(ByteSliceMap pieces, String[] texts, float[] scores, Type[] types,
            SentencePieceNormalizer.UserDefinedMatcher userDefined) {
        this.splitAtSpaces = splittable(texts, types);
        this.pieces = pieces;
        this.scores = scores;
        this.unused = new boolean[types.length];
        boolean any = false;
        for (int i = 0; i < types.length; i++) {
            unused[i] = types[i] == Type.UNUSED;
            any |= unused[i];
        }
        this.hasUnused = any;
        this.userDefined = userDefined;
    }

    @Override
    public void encode(byte[] s, PieceSink sink) {
        if (!splitAtSpaces) {
            encodeRange(s, 0, s.length, sink);
            return;
        }
        // No piece has ▁ after a non-▁ character, so no merge crosses the start of a ▁ run:
        // each word (▁ run + what follows) is encoded alone, from a per-thread cache if seen.
        SegmentCache cache = CACHE.get();
        int start = 0;
        for (int i = 1; i <= s.length; i++) {
            if (i == s.length || (i >= 3 && isSpaceAt(s, i) && !isSpaceAt(s, i - 3))) {
                cache.encode(this, s, start, i, sink);
                start = i;
            }
        }
    }

    private static boolean isSpaceAt(byte[] s, int i) {
        return i >= 0 && i + 3 <= s.length && s[i] == SPACE[0] && s[i + 1] == SPACE[1] && s[i + 2] == SPACE[2];
    }

    private static final byte[] SPACE = SentencePieceNormalizer.SPACE_SYMBOL;
    private static final ThreadLocal<SegmentCache> CACHE = ThreadLocal.withInitial(SegmentCache::new);

    /**
     * Whether no piece contains ▁ after a non-▁ character (true for models trained with
     * split_by_whitespace, like LLaMA's), which makes each word an independent BPE problem.
     */
    private static boolean splittable(String[] texts, Type[] types) {
        for (int i = 0; i < texts.length; i++) {
            if (types[i] != Type.NORMAL && types[i] != Type.USER_DEFINED && types[i] != Type.UNUSED) continue;
            String p = texts[i];
            int k = 0;
            while (k < p.length() && p.charAt(k) == '\u2581') k++;
            if (p.indexOf('\u2581', k) >= 0) return false;
        }
        return true;
    }

    /**
     * A direct-mapped cache of word → pieces, one per thread (so no locking): a slot holds the
     * word's bytes and its pieces as (length, id) pairs; a colliding word simply replaces it.
     */
    private static final class SegmentCache {
        private static final int SLOTS = 1 << 14;
        private static final int MAX_WORD = 64;
        private final byte[][] keys = new byte[SLOTS][];
        private final int[][] values = new int[SLOTS][];
        private final SentencePieceBpe[] owners = new SentencePieceBpe[SLOTS];
        private final IntList scratch = new IntList(64);

        void encode(SentencePieceBpe model, byte[] s, int from, int to, PieceSink sink) {
            if (to - from > MAX_WORD) {
                model.encodeRange(s, from, to, sink);
                return;
            }
            int h = 0x811C9DC5;
            for (int i = from; i < to; i++) h = (h ^ (s[i] & 0xFF)) * 0x01000193;
            int slot = (h ^ (h >>> 15) ^ System.identityHashCode(model)) & (SLOTS - 1);
            int[] v = values[slot];
            if (v == null || owners[slot] != model || !java.util.Arrays.equals(keys[slot], 0, keys[slot].length, s, from, to)) {
                var pieces = scratch;
                pieces.clear();
                model.encodeRange(s, from, to, (a, b, id) -> {
                    pieces.add(b - a);
                    pieces.add(id);
                });
                v = pieces.toArray();
                keys[slot] = java.util.Arrays.copyOfRange(s, from, to);
                values[slot] = v;
                owners[slot] = model;
            }
            int pos = from;
            for (int k = 0; k < v.length; k += 2) {
                sink.piece(pos, pos + v[k], v[k + 1]);
                pos += v[k];
            }
        }
    }

    private void encodeRange(byte[] s, int from, int to, PieceSink sink) {
        int n = to - from;
        // Symbols: a linked list over the byte array; a merged-away symbol has length 0.
        int[] start = new int[n];
        int[] len = new int[n];
        int[] prev = new int[n];
        int[] next = new int[n];
        boolean[] frozen = new boolean[n];
        int count = 0;
        for (int pos = from; pos < to; ) {
            int m = userDefined == null ? 0 : userDefined.longestMatch(s, pos, to);
            frozen[count] = m > 0;
            if (m == 0) m = Math.min(Utf8.charLength(s[pos]), to - pos);
            start[count] = pos;
            len[count] = m;
            prev[count] = count - 1;
            next[count] = pos + m < to ? count + 1 : -1;
            count++;
            pos += m;
        }
        var heap = new MergeQueue(count, 2);
        Map<Long, long[]> revMerge = hasUnused ? new HashMap<>() : null;
        for (int i = 1; i < count; i++) addPair(s, i - 1, i, start, len, frozen, heap, revMerge);
        while (!heap.isEmpty()) {
            int top = heap.pop();
            int left = heap.left(top);
            int right = heap.get(top, RIGHT);
            if (len[left] == 0 || len[right] == 0 || len[left] + len[right] != heap.get(top, LENGTH)) continue;
            len[left] += len[right];
            len[right] = 0;
            next[left] = next[right];
            if (next[right] >= 0) prev[next[right]] = left;
            if (prev[left] >= 0) addPair(s, prev[left], left, start, len, frozen, heap, revMerge);
            if (next[left] >= 0) addPair(s, left, next[left], start, len, frozen, heap, revMerge);
        }
        for (int i = 0; i >= 0 && count > 0; i = next[i]) {
            emit(s, start[i], start[i] + len[i], sink, revMerge);
        }
    }

    // Fields of a pair candidate in the queue; its byte length detects stale entries.
    private static final int RIGHT = 0, LENGTH = 1;

    /** Queues the pair of symbols {@code left} and {@code right} if it is a piece, ordered by (higher score, position). */
    private void addPair(byte[] s, int left, int right, int[] start, int[] len, boolean[] frozen, MergeQueue heap,
            Map<Long, long[]> revMerge) {
        if (frozen[left] || frozen[right]) return;
        int from = start[left];
        int to = start[right] + len[right];
        int id = pieces.get(s, from, to);
        if (id < 0) return;
        int e = heap.push(MergeQueue.scoreFirst(scores[id], left));
        heap.set(e, RIGHT, right);
        heap.set(e, LENGTH, to - from);
        if (revMerge != null && unused[id]) {
            revMerge.put(key(from, to), new long[] {key(from, start[right]), key(start[right], to)});
        }
    }

    private void emit(byte[] s, int from, int to, PieceSink sink, Map<Long, long[]> revMerge) {
        int id = pieces.get(s, from, to);
        if (id >= 0 && unused[id] && revMerge != null) {
            long[] parts = revMerge.get(key(from, to));
            if (parts != null) {
                emit(s, (int) (parts[0] >>> 32), (int) parts[0], sink, revMerge);
                emit(s, (int) (parts[1] >>> 32), (int) parts[1], sink, revMerge);
                return;
            }
        }
        sink.piece(from, to, id);
    }

    private static long key(int from, int to) {
        return ((long) from << 32) | to;
    }
}
