package io.cohx.models.tokenizer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * SentencePiece's text normalization on UTF-8 bytes: optional character-map rewriting (the
 * compiled NFKC-style rules stored in {@code precompiled_charsmap}), removal of leading, trailing
 * and repeated spaces, the dummy-prefix space, and spaces written as U+2581 ▁. User-defined
 * pieces pass through unchanged. LLaMA and Mistral models use the identity map with no space
 * removal: only the prefix and the ▁ escaping apply to them.
 */
final class SentencePieceNormalizer {

    static final byte[] SPACE_SYMBOL = {(byte) 0xE2, (byte) 0x96, (byte) 0x81}; // U+2581

    private final boolean addDummyPrefix;
    private final boolean removeExtraWhitespaces;
    private final boolean escapeWhitespaces;
    private final CharsMap charsMap; // null: identity
    private final UserDefinedMatcher userDefined;

    SentencePieceNormalizer(boolean addDummyPrefix, boolean removeExtraWhitespaces, boolean escapeWhitespaces,
            byte[] precompiledCharsMap, UserDefinedMatcher userDefined, String file) {
        this.addDummyPrefix = addDummyPrefix;
        this.removeExtraWhitespaces = removeExtraWhitespaces;
        this.escapeWhitespaces = escapeWhitespaces;
        this.charsMap = precompiledCharsMap == null || precompiledCharsMap.length == 0
                ? null : new CharsMap(precompiledCharsMap, file);
        this.userDefined = userDefined;
    }

    /** The normalized bytes of {@code input}; empty when nothing but removable spaces remain. */
    byte[] normalize(byte[] input) {
        int pos = 0;
        int end = input.length;
        if (end == 0) return input;
        if (charsMap == null && userDefined == null && !removeExtraWhitespaces && escapeWhitespaces) {
            return escapeOnly(input);
        }
        var prefix = new int[2]; // {replacement start or -1 for copy, consumed length}; see prefix()
        if (removeExtraWhitespaces) {
            while (pos < end) {
                byte[] rep = prefix(input, pos, end, prefix);
                if (!isSingleSpace(rep, input, pos, prefix)) break;
                pos += prefix[1];
            }
            if (pos == end) return new byte[0];
        }
        var out = new ByteBuilder(input.length + (input.length >> 2) + 8);
        if (addDummyPrefix) appendSpace(out);
        boolean prevSpace = removeExtraWhitespaces;
        while (pos < end) {
            byte[] rep = prefix(input, pos, end, prefix);
            byte[] src;
            int from;
            int to;
            if (rep == null) {
                src = input;
                from = pos;
                to = pos + prefix[0];
            } else {
                src = rep;
                from = prefix[0];
                to = prefix[0] + lengthOfReplacement(rep, prefix[0]);
            }
            while (prevSpace && from < to && src[from] == ' ') from++;
            if (from < to) {
                for (int i = from; i < to; i++) {
                    if (escapeWhitespaces && src[i] == ' ') appendSpace(out);
                    else out.add(src[i]);
                }
                prevSpace = src[to - 1] == ' ';
            }
            pos += prefix[1];
            if (!removeExtraWhitespaces) prevSpace = false;
        }
        if (removeExtraWhitespaces) {
            byte[] space = escapeWhitespaces ? SPACE_SYMBOL : new byte[] {' '};
            while (out.endsWith(space)) out.truncate(out.size() - space.length);
        }
        return out.toArray();
    }

    /**
     * The LLaMA/Mistral case (identity map, no space removal, no user-defined pieces) in one pass.
     * {@code input} comes from a Java string, so it is valid UTF-8 and needs no per-character checks.
     */
    private byte[] escapeOnly(byte[] input) {
        int spaces = 0;
        for (byte b : input) if (b == ' ') spaces++;
        int n = input.length + 2 * spaces + (addDummyPrefix ? 3 : 0);
        byte[] out = new byte[n];
        int o = 0;
        if (addDummyPrefix) {
            System.arraycopy(SPACE_SYMBOL, 0, out, 0, 3);
            o = 3;
        }
        for (byte b : input) {
            if (b == ' ') {
                out[o++] = SPACE_SYMBOL[0];
                out[o++] = SPACE_SYMBOL[1];
                out[o++] = SPACE_SYMBOL[2];
            } else {
                out[o++] = b;
            }
        }
        return out;
    }

    private void appendSpace(ByteBuilder out) {
        if (escapeWhitespaces) out.addAll(SPACE_SYMBOL);
        else out.add((byte) ' ');
    }

    private static boolean isSingleSpace(byte[] rep, byte[] input, int pos, int[] prefix) {
        if (rep == null) return prefix[0] == 1 && input[pos] == ' ';
        return lengthOfReplacement(rep, prefix[0]) == 1 && rep[prefix[0]] == ' ';
    }

    /**
     * Normalizes the longest known prefix of {@code input[pos..end)}. Returns null when the
     * output is a copy of the input ({@code out[0]} = bytes to copy), otherwise the array holding
     * the NUL-terminated replacement ({@code out[0]} = its start). {@code out[1]} = bytes consumed.
     */
    private byte[] prefix(byte[] input, int pos, int end, int[] out) {
        if (userDefined != null) {
            int n = userDefined.longestMatch(input, pos, end);
            if (n > 0) {
                out[0] = n;
                out[1] = n;
                return null;
            }
        }
        if (charsMap != null) {
            long match = charsMap.longestMatch(input, pos, end);
            if (match >= 0) {
                out[0] = (int) (match >>> 32);
                out[1] = (int) match;
                return charsMap.normalized;
            }
        }
        int n = Utf8.validCharLength(input, pos, end);
        if (n < 0) {
            out[0] = 0;
            out[1] = 1;
            return REPLACEMENT_Z;
        }
        out[0] = n;
        out[1] = n;
        return null;
    }

    private static final byte[] REPLACEMENT_Z = {(byte) 0xEF, (byte) 0xBF, (byte) 0xBD, 0};

    private static int lengthOfReplacement(byte[] rep, int start) {
        int i = start;
        while (i < rep.length && rep[i] != 0) i++;
        return i - start;
    }

    /** Longest-match lookup of user-defined pieces, which bypass normalization and BPE. */
    static final class UserDefinedMatcher {
        private final ByteSliceMap pieces;
        private final int[] lengthsDescending;

        UserDefinedMatcher(byte[][] userPieces) {
            var ids = new int[userPieces.length];
            Arrays.fill(ids, 1);
            pieces = new ByteSliceMap(userPieces, ids);
            lengthsDescending = Arrays.stream(userPieces).mapToInt(p -> p.length).filter(n -> n > 0).distinct()
                    .boxed().sorted((a, b) -> b - a).mapToInt(Integer::intValue).toArray();
        }

        /** Length of the longest user-defined piece at {@code pos}, or 0. */
        int longestMatch(byte[] s, int pos, int end) {
            for (int len : lengthsDescending) {
                if (pos + len <= end && pieces.get(s, pos, pos + len) >= 0) return len;
            }
            return 0;
        }
    }

    /**
     * The compiled character map: a darts-clone double-array trie over input byte strings whose
     * values point into a blob of NUL-terminated replacement strings.
     */
    private static final class CharsMap {
        private final int[] units;
        final byte[] normalized;

        CharsMap(byte[] blob, String file) {
            if (blob.length <= 4) {
                throw new TokenizerException(file + ": normalizer_spec.precompiled_charsmap is " + blob.length
                        + " bytes, too short to hold a trie; the model file is damaged");
            }
            var bb = ByteBuffer.wrap(blob).order(ByteOrder.LITTLE_ENDIAN);
            long trieSize = bb.getInt(0) & 0xFFFFFFFFL;
            if (trieSize >= blob.length - 4 || trieSize % 4 != 0) {
                throw new TokenizerException(file + ": normalizer_spec.precompiled_charsmap declares a trie of "
                        + trieSize + " bytes in a blob of " + blob.length + "; the model file is damaged");
            }
            units = new int[(int) trieSize / 4];
            for (int i = 0; i < units.length; i++) units[i] = bb.getInt(4 + 4 * i);
            normalized = Arrays.copyOfRange(blob, 4 + (int) trieSize, blob.length);
        }

        /** (value << 32 | length) of the longest rule matching at {@code pos}, or -1. */
        long longestMatch(byte[] key, int pos, int end) {
            long best = -1;
            int node = offset(units[0]);
            for (int i = pos; i < end; i++) {
                int label = key[i] & 0xFF;
                node ^= label;
                if (node < 0 || node >= units.length) break;
                int unit = units[node];
                if ((unit & 0x800000FF) != label) break;
                node ^= offset(unit);
                if (((unit >>> 8) & 1) != 0 && node >= 0 && node < units.length) {
                    int value = units[node] & 0x7FFFFFFF;
                    if (value < normalized.length) best = ((long) value << 32) | (i + 1 - pos);
                }
            }
            return best;
        }

        private static int offset(int unit) {
            return (unit >>> 10) << ((unit & (1 << 9)) >>> 6);
        }
    }

    /** A growable byte array. */
    static final class ByteBuilder {
        private byte[] data;
        private int size;

        ByteBuilder(int capacity) {
            data = new byte[Math.max(16, capacity)];
        }

        void add(byte b) {
            if (size == data.length) data = Arrays.copyOf(data, size * 2);
            data[size++] = b;
        }

        void addAll(byte[] bytes) {
            if (size + bytes.length > data.length) data = Arrays.copyOf(data, Math.max(size * 2, size + bytes.length));
            System.arraycopy(bytes, 0, data, size, bytes.length);
            size += bytes.length;
        }

        boolean endsWith(byte[] suffix) {
            return size >= suffix.length && Arrays.equals(data, size - suffix.length, size, suffix, 0, suffix.length);
        }

        void truncate(int n) {
            size = n;
        }

        int size() {
            return size;
        }

        byte[] toArray() {
            return Arrays.copyOf(data, size);
        }
    }
}
