package io.cohx.models.tokenizer;

import io.cohx.models.tokenizer.proto.SentencePieceModelProtos.ModelProto.SentencePiece.Type;
import java.util.List;

/**
 * SentencePiece unigram: the Viterbi path that maximizes the summed piece scores, found in one
 * left-to-right pass over the UTF-8 bytes with a byte trie of the pieces. Scoring follows the
 * reference exactly (user-defined pieces get {@code length * max_score - 0.1}, unknown
 * characters {@code min_score - 10}, ties keep the first path found) so equal-score
 * segmentations resolve the same way.
 */
final class SentencePieceUnigram implements SentencePieceModel {

    private static final float UNK_PENALTY = 10.0f;

    private final LongIntMap children = new LongIntMap(1 << 16); // (node << 8 | byte) → child node
    private int[] nodeValue = new int[1 << 12]; // piece id or -1
    private int nodes = 1;
    private final float[] scores;
    private final boolean[] userDefined;
    private final boolean[] unused;
    private final float minScore;
    private final float maxScore;
    private final int unkId;

    SentencePieceUnigram(List<byte[]> keys, List<Integer> ids, float[] scores, Type[] types, int unkId) {
        this.scores = scores;
        this.unkId = unkId;
        userDefined = new boolean[types.length];
        unused = new boolean[types.length];
        float min = Float.MAX_VALUE;
        float max = Float.MIN_NORMAL; // the reference starts from FLT_MIN and maps it back to 0
        for (int i = 0; i < types.length; i++) {
            userDefined[i] = types[i] == Type.USER_DEFINED;
            unused[i] = types[i] == Type.UNUSED;
            if (types[i] == Type.NORMAL) {
                min = Math.min(min, scores[i]);
                max = Math.max(max, scores[i]);
            }
        }
        minScore = min == Float.MAX_VALUE ? 0f : min;
        maxScore = max == Float.MIN_NORMAL ? 0f : max;
        java.util.Arrays.fill(nodeValue, -1);
        for (int k = 0; k < keys.size(); k++) insert(keys.get(k), ids.get(k));
    }

    private void insert(byte[] key, int id) {
        int node = 0;
        for (byte b : key) {
            long edge = ((long) node << 8) | (b & 0xFF);
            int child = children.get(edge, -1);
            if (child < 0) {
                child = nodes++;
                if (child == nodeValue.length) {
                    int old = nodeValue.length;
                    nodeValue = java.util.Arrays.copyOf(nodeValue, old * 2);
                    java.util.Arrays.fill(nodeValue, old, nodeValue.length, -1);
                }
                children.putIfAbsent(edge, child);
            }
            node = child;
        }
        if (nodeValue[node] < 0) nodeValue[node] = id;
    }

    @Override
    public void encode(byte[] s, PieceSink sink) {
        int size = s.length;
        float[] best = new float[size + 1];
        int[] startsAt = new int[size + 1];
        int[] bestId = new int[size + 1];
        java.util.Arrays.fill(startsAt, -1);
        float unkScore = minScore - UNK_PENALTY;
        int start = 0;
        while (start < size) {
            float tillHere = best[start];
            boolean hasSingle = false;
            int mblen = Math.min(Utf8.charLength(s[start]), size - start);
            int node = 0;
            for (int pos = start; pos < size; pos++) {
                node = children.get(((long) node << 8) | (s[pos] & 0xFF), -1);
                if (node < 0) break;
                int id = nodeValue[node];
                if (id < 0 || unused[id]) continue;
                int end = pos + 1;
                int length = end - start;
                // Sums stay in float like the reference's: equal-score paths (runs of one
                // character) then tie exactly, and the first one found wins, as there.
                float score = userDefined[id] ? (float) (length * maxScore - 0.1) : scores[id];
                float candidate = score + tillHere;
                if (startsAt[end] == -1 || candidate > best[end]) {
                    best[end] = candidate;
                    startsAt[end] = start;
                    bestId[end] = id;
                }
                if (length == mblen) hasSingle = true;
            }
            if (!hasSingle) {
                int end = start + mblen;
                float candidate = unkScore + tillHere;
                if (startsAt[end] == -1 || candidate > best[end]) {
                    best[end] = candidate;
                    startsAt[end] = start;
                    bestId[end] = unkId;
                }
            }
            start += mblen;
        }
        // Backtrack, then report left to right.
        var ends = new IntList(size / 2 + 2);
        for (int end = size; end > 0; end = startsAt[end]) ends.add(end);
        for (int k = ends.size() - 1; k >= 0; k--) {
            int end = ends.get(k);
            sink.piece(startsAt[end], end, bestId[end]);
        }
    }
}
