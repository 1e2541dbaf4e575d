package io.cohx.models.tokenizer;

/**
 * The merge loop of rank-ordered BPE, shared by {@link ByteLevelBpeTokenizer} and the
 * tokenizer.json {@link BpeModel}: given a word's initial symbols, the adjacent pair with the
 * lowest merge rank is merged, leftmost among equals, until no adjacent pair has a merge (GPT-2's
 * and Hugging Face's order). Short words use an allocation-light quadratic loop, long ones (a
 * 100 kB piece, or a whole text where there is no pre-tokenizer) the {@link MergeQueue}.
 * Immutable and thread-safe.
 */
final class BpeMerges {
    private static final int SHORT = 48; // words up to this many symbols use the quadratic loop

    private final LongIntMap merges; // (left << 32 | right) -> merge index; the first of duplicates wins
    private final int[] rank;
    private final int[] result;

    /** Merge {@code m} joins ids {@code left[m]} and {@code right[m]} into {@code result[m]}; lower {@code rank[m]} merges first. */
    BpeMerges(int[] left, int[] right, int[] rank, int[] result) {
        this.merges = new LongIntMap(left.length);
        this.rank = rank;
        this.result = result;
        for (int m = 0; m < left.length; m++) {
            merges.putIfAbsent(((long) left[m] << 32) | right[m], m);
        }
    }

    /** Appends the ids {@code ids[0, n)} merge into; {@code ids} is overwritten. */
    void merge(int[] ids, int n, IntList out) {
        if (n <= SHORT) {
            mergeShort(ids, n, out);
        } else {
            mergeLong(ids, n, out);
        }
    }

    private int mergeOf(int left, int right) {
        return merges.get(((long) left << 32) | right, -1);
    }

    /** Quadratic but allocation-light: the common case of a word-sized piece. */
    private void mergeShort(int[] ids, int n, IntList out) {
        if (n == 0) return;
        int[] pri = new int[n]; // rank of merging ids[i] with ids[i+1]
        int[] res = new int[n];
        for (int i = 0; i + 1 < n; i++) setPair(ids, pri, res, i);
        pri[n - 1] = Integer.MAX_VALUE;
        while (n > 1) {
            int best = -1;
            int bestPri = Integer.MAX_VALUE;
            for (int i = 0; i + 1 < n; i++) {
                if (pri[i] < bestPri) {
                    bestPri = pri[i];
                    best = i;
                }
            }
            if (best < 0) break;
            ids[best] = res[best];
            System.arraycopy(ids, best + 2, ids, best + 1, n - best - 2);
            System.arraycopy(pri, best + 2, pri, best + 1, n - best - 2);
            System.arraycopy(res, best + 2, res, best + 1, n - best - 2);
            n--;
            pri[n - 1] = Integer.MAX_VALUE;
            if (best + 1 < n) setPair(ids, pri, res, best);
            else pri[best] = Integer.MAX_VALUE;
            if (best > 0) setPair(ids, pri, res, best - 1);
        }
        for (int i = 0; i < n; i++) out.add(ids[i]);
    }

    private void setPair(int[] ids, int[] pri, int[] res, int i) {
        int m = mergeOf(ids[i], ids[i + 1]);
        if (m < 0) {
            pri[i] = Integer.MAX_VALUE;
        } else {
            pri[i] = rank[m];
            res[i] = result[m];
        }
    }

    /** Heap-based, O(n log n), for long words (a 100 kB word must not take minutes). */
    private void mergeLong(int[] ids, int n, IntList out) {
        int[] prev = new int[n];
        int[] next = new int[n];
        boolean[] dead = new boolean[n];
        for (int i = 0; i < n; i++) {
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        var q = new MergeQueue(n, 4);
        for (int i = 0; i + 1 < n; i++) maybePush(q, ids, i, i + 1);
        while (!q.isEmpty()) {
            int e = q.pop();
            int l = q.left(e);
            int r = q.get(e, RIGHT);
            if (dead[l] || dead[r] || next[l] != r || ids[l] != q.get(e, LEFT_ID) || ids[r] != q.get(e, RIGHT_ID)) continue;
            ids[l] = q.get(e, RESULT);
            dead[r] = true;
            next[l] = next[r];
            if (next[r] >= 0) prev[next[r]] = l;
            if (prev[l] >= 0) maybePush(q, ids, prev[l], l);
            if (next[l] >= 0) maybePush(q, ids, l, next[l]);
        }
        for (int i = 0; i >= 0; i = next[i]) out.add(ids[i]);
    }

    // Fields of a merge candidate in the queue; the ids it was pushed with detect stale entries.
    private static final int RIGHT = 0, LEFT_ID = 1, RIGHT_ID = 2, RESULT = 3;

    /** Queues the merge of symbols {@code l} and {@code r}, if there is one, ordered by (merge rank, position). */
    private void maybePush(MergeQueue q, int[] ids, int l, int r) {
        int m = mergeOf(ids[l], ids[r]);
        if (m < 0) return;
        int e = q.push(MergeQueue.rankFirst(rank[m], l));
        q.set(e, RIGHT, r);
        q.set(e, LEFT_ID, ids[l]);
        q.set(e, RIGHT_ID, ids[r]);
        q.set(e, RESULT, result[m]);
    }
}
