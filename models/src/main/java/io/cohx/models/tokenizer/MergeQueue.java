package io.cohx.models.tokenizer;

import java.util.Arrays;

/**
 * The candidate merges of a BPE encoder, best first: a binary min-heap over entries ordered by one
 * {@code long} key (the merge's rank, then its left symbol's position, see {@link #rankFirst} and
 * {@link #scoreFirst}), each with a few {@code int} fields the encoder keeps with it. Encoders never
 * remove an entry early: one whose symbols changed after it was pushed is stale, and the encoder
 * skips it when it pops. Primitive arrays only, so that a long piece costs no boxing.
 */
final class MergeQueue {
    private final int fields;
    private long[] keys; // by entry
    private int[] data; // by entry, `fields` ints each
    // The heap: each slot holds an entry and a copy of its key, so that sifting compares keys
    // that sit next to each other instead of reading them through the entry index.
    private long[] heapKeys;
    private int[] heapEntries;
    private int size;
    private int used;

    /** A queue expecting about {@code symbols} pushes up front, with {@code fields} ints per entry. */
    MergeQueue(int symbols, int fields) {
        int c = Math.max(16, symbols * 2);
        this.fields = fields;
        keys = new long[c];
        data = new int[c * fields];
        heapKeys = new long[c];
        heapEntries = new int[c];
    }

    /** The key of a merge of rank {@code rank} (lower merges first) at {@code left}; ties go leftmost. */
    static long rankFirst(int rank, int left) {
        return ((long) rank << 32) | left;
    }

    /** The key of a merge of score {@code score} (higher merges first) at {@code left}; ties go leftmost. */
    static long scoreFirst(float score, int left) {
        int bits = Float.floatToIntBits(score + 0.0f); // + 0: -0.0 ties with 0.0, as == says
        int ordered = bits >= 0 ? bits : bits ^ 0x7fffffff; // int order = float order
        return ((long) ~ordered << 32) | left;
    }

    boolean isEmpty() {
        return size == 0;
    }

    /** Adds an entry with {@code key}; returns its index, for {@link #set} and the pops to come. */
    int push(long key) {
        if (used == keys.length) {
            int c = used * 2;
            keys = Arrays.copyOf(keys, c);
            data = Arrays.copyOf(data, c * fields);
            heapKeys = Arrays.copyOf(heapKeys, c);
            heapEntries = Arrays.copyOf(heapEntries, c);
        }
        int e = used++;
        keys[e] = key;
        int i = size++;
        while (i > 0) {
            int p = (i - 1) >>> 1;
            long pk = heapKeys[p];
            if (key >= pk) {
                break;
            }
            heapKeys[i] = pk;
            heapEntries[i] = heapEntries[p];
            i = p;
        }
        heapKeys[i] = key;
        heapEntries[i] = e;
        return e;
    }

    /** Removes and returns the best entry (the queue must not be empty). */
    int pop() {
        int top = heapEntries[0];
        size--;
        long lastKey = heapKeys[size];
        int last = heapEntries[size];
        int i = 0;
        while (true) {
            int c = 2 * i + 1;
            if (c >= size) {
                break;
            }
            long ck = heapKeys[c];
            if (c + 1 < size && heapKeys[c + 1] < ck) {
                ck = heapKeys[++c];
            }
            if (ck >= lastKey) {
                break;
            }
            heapKeys[i] = ck;
            heapEntries[i] = heapEntries[c];
            i = c;
        }
        if (size > 0) {
            heapKeys[i] = lastKey;
            heapEntries[i] = last;
        }
        return top;
    }

    /** The left symbol position entry {@code e} was pushed with (the low half of its key). */
    int left(int e) {
        return (int) keys[e];
    }

    void set(int e, int field, int value) {
        data[e * fields + field] = value;
    }

    int get(int e, int field) {
        return data[e * fields + field];
    }
}
