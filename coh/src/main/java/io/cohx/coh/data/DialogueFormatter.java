package io.cohx.coh.data;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The HH-RLHF rules of {@link DialoguePacker} written straight to JSON bytes, for speed: no maps,
 * substrings or per-sequence strings; each turn's text is escaped once per record and the keys,
 * marker headers and {@code fields} pieces are prepared once per run. It gives the same bytes as
 * {@link DialoguePacker} through {@link PyJson} (DialogueFormatterTest compares the two on tricky
 * dialogues and options), but only when no two output keys can be equal: a repeated key keeps its
 * first position and takes the last value, which the general path handles and this one does not,
 * so {@link #forOptions} returns null for such options and the caller uses the general path.
 */
final class DialogueFormatter {

    /** Keys and {@code fields} pieces for turns below this are prepared; later ones are built when met. */
    private static final int PREPARED_TURNS = 64;
    private static final byte[] FIELDS_KEY = ", \"fields\": \"".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] LINE_END = "\"}\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] COMMA = {','};
    private static final char[] HUMAN = "Human:".toCharArray();
    private static final char[] ASSISTANT = "Assistant:".toCharArray();

    private final PackOptions o;
    /** Per marker pair: {@code {"marker_user": "...", "marker_gpt": "...", "marker_gpt_bad": "..."}} without the brace. */
    private final byte[][] heads;
    private final FeedbackType[] types;
    /** {@code , "human_<2k>": } for turn k. */
    private final byte[][] userKeys;
    /** {@code , "gpt_<2k+1>": } (index 1) and {@code , "gpt_bad_<2k+1>": } (index 0) for turn k. */
    private final byte[][][] answerKeys;
    /** The {@code fields} text of turn k's answer, escaped: {@code [marker_user+human_<2k>+marker_gpt],gpt_<2k+1>,<|eos|>}. */
    private final byte[][][] fieldPieces;

    private DialogueFormatter(PackOptions o) {
        this.o = o;
        var phrases = FeedbackDataset.DIALOGUE.phrases();
        int pairs = o.feedback().aux() ? phrases.good().size() : 1;
        heads = new byte[pairs][];
        for (int k = 0; k < pairs; k++) {
            String good = o.feedback().aux() ? phrases.good().get(k) : o.gptMarker();
            String bad = o.feedback().aux() ? phrases.bad().get(k) : o.gptBadMarker();
            var json = new PyJson();
            json.appendRaw(new byte[] {'{'}, 0, 1);
            pair(json, o.userFieldId(), o.userMarker(), false);
            pair(json, o.gptFieldId(), good, true);
            pair(json, o.gptBadFieldId(), bad, true);
            heads[k] = java.util.Arrays.copyOf(json.bytes(), json.length());
        }
        types = o.feedback().inOrder(FeedbackDataset.DIALOGUE.typeOrder()).toArray(FeedbackType[]::new);
        userKeys = new byte[PREPARED_TURNS][];
        answerKeys = new byte[2][PREPARED_TURNS][];
        fieldPieces = new byte[2][PREPARED_TURNS][];
        for (int k = 0; k < PREPARED_TURNS; k++) {
            userKeys[k] = buildUserKey(k);
            for (int positive = 0; positive < 2; positive++) {
                answerKeys[positive][k] = buildAnswerKey(positive == 1, k);
                fieldPieces[positive][k] = buildFieldPiece(positive == 1, k);
            }
        }
    }

    /**
     * The formatter for {@code o}, or null when two keys of one sequence could be equal (field ids
     * equal to each other, to "fields" or to a data key; equal data ids).
     */
    static DialogueFormatter forOptions(PackOptions o) {
        var heads = List.of(o.userFieldId(), o.gptFieldId(), o.gptBadFieldId());
        var data = List.of(o.userDataId(), o.gptDataId(), o.gptBadDataId());
        if (heads.stream().distinct().count() != 3 || data.stream().distinct().count() != 3
                || heads.contains("fields")) {
            return null;
        }
        for (String h : heads) {
            for (String d : data) {
                if (h.startsWith(d + "_")) {
                    return null;
                }
            }
        }
        return new DialogueFormatter(o);
    }

    /** Sequences per record and feedback type ({@code aux}: one per phrase pair). */
    int pairs() {
        return heads.length;
    }

    FeedbackType[] types() {
        return types.clone();
    }

    private static void pair(PyJson json, String key, String value, boolean comma) {
        if (comma) {
            json.appendRaw(new byte[] {',', ' '}, 0, 2);
        }
        json.appendString(key);
        json.appendRaw(new byte[] {':', ' '}, 0, 2);
        json.appendString(value);
    }

    private static byte[] escapedBody(String s) {
        byte[] b = new byte[PyJson.maxEscaped(s.length())];
        int n = PyJson.escape(s, 0, s.length(), b, 0);
        return java.util.Arrays.copyOfRange(b, 1, n - 1);
    }

    private byte[] key(String dataId, int index) {
        return (", " + new String(quoted(dataId + "_" + index), StandardCharsets.US_ASCII) + ": ")
                .getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] quoted(String s) {
        byte[] b = new byte[PyJson.maxEscaped(s.length())];
        return java.util.Arrays.copyOf(b, PyJson.escape(s, 0, s.length(), b, 0));
    }

    private byte[] buildUserKey(int turn) {
        return key(o.userDataId(), 2 * turn);
    }

    private byte[] buildAnswerKey(boolean positive, int turn) {
        return key(positive ? o.gptDataId() : o.gptBadDataId(), 2 * turn + 1);
    }

    private byte[] buildFieldPiece(boolean positive, int turn) {
        String marker = positive ? o.gptFieldId() : o.gptBadFieldId();
        String answerKey = (positive ? o.gptDataId() : o.gptBadDataId()) + "_" + (2 * turn + 1);
        return escapedBody("[" + o.userFieldId() + "+" + o.userDataId() + "_" + (2 * turn) + "+" + marker + "],"
                + answerKey + ",<|eos|>");
    }

    private byte[] userKey(int turn) {
        return turn < PREPARED_TURNS ? userKeys[turn] : buildUserKey(turn);
    }

    private byte[] answerKey(boolean positive, int turn) {
        return turn < PREPARED_TURNS ? answerKeys[positive ? 1 : 0][turn] : buildAnswerKey(positive, turn);
    }

    private byte[] fieldPiece(boolean positive, int turn) {
        return turn < PREPARED_TURNS ? fieldPieces[positive ? 1 : 0][turn] : buildFieldPiece(positive, turn);
    }

    /**
     * The turns of one dialogue, as {@link DialoguePacker#turns} splits and strips them, with each
     * text already escaped: {@code human(k)} / {@code answer(k)} are ranges of {@link #text}
     * (answer length -1: the turn has no reply).
     */
    static final class Turns {
        int count;
        private int[] at = new int[16];
        final PyJson text = new PyJson();

        void clear() {
            count = 0;
            text.reset();
        }

        int humanFrom(int k) {
            return at[4 * k];
        }

        int humanLength(int k) {
            return at[4 * k + 1];
        }

        int answerFrom(int k) {
            return at[4 * k + 2];
        }

        int answerLength(int k) {
            return at[4 * k + 3];
        }

        /** Splits {@code d} on "Human:" then "Assistant:" and strips, like Python's str.split/strip. */
        void parse(String d) {
            parse(d.toCharArray(), 0, d.length());
        }

        /** {@link #parse(String)} for the text {@code d[from, from + length)}. */
        void parse(char[] d, int from, int length) {
            clear();
            int n = markers(d, from, from + length);
            // Each "Human:" starts a part that runs to the next one; in it, the text before the
            // first "Assistant:" is the human turn and the text up to a second one the answer.
            int m = 0;
            while (m < n && marks[m] >= 0) {
                m++;
            }
            while (m < n) {
                int start = ~marks[m] + HUMAN.length;
                int next = m + 1;
                int a1 = -1;
                int a2 = -1;
                while (next < n && marks[next] >= 0) {
                    if (a1 < 0) {
                        a1 = marks[next];
                    } else if (a2 < 0) {
                        a2 = marks[next];
                    }
                    next++;
                }
                int partEnd = next < n ? ~marks[next] : from + length;
                if (a1 >= 0) {
                    add(d, start, a1, a1 + ASSISTANT.length, a2 >= 0 ? a2 : partEnd);
                } else {
                    add(d, start, partEnd, -1, -1);
                }
                m = next;
            }
        }

        /** Positions of "Human:" (as {@code ~pos}) and "Assistant:" (as {@code pos}) in order. */
        private int[] marks = new int[32];

        /**
         * Finds every "Human:" and "Assistant:" in {@code d[from, to)} with one pass over the
         * colons: both end in the only colon they hold, so two occurrences can never overlap and
         * these are exactly the occurrences {@code str.split} uses. Returns how many.
         */
        private int markers(char[] d, int from, int to) {
            int n = 0;
            for (int i = from; i < to; i++) {
                if (d[i] != ':') {
                    continue;
                }
                int mark;
                if (endsWith(d, from, i, HUMAN)) {
                    mark = ~(i + 1 - HUMAN.length);
                } else if (endsWith(d, from, i, ASSISTANT)) {
                    mark = i + 1 - ASSISTANT.length;
                } else {
                    continue;
                }
                if (n == marks.length) {
                    marks = java.util.Arrays.copyOf(marks, n * 2);
                }
                marks[n++] = mark;
            }
            return n;
        }

        /** Whether {@code d[.., colon]} ends with {@code p} (whose last char is the colon) within {@code from}. */
        private static boolean endsWith(char[] d, int from, int colon, char[] p) {
            int start = colon + 1 - p.length;
            if (start < from) {
                return false;
            }
            for (int k = p.length - 2; k >= 0; k--) {
                if (d[start + k] != p[k]) {
                    return false;
                }
            }
            return true;
        }

        private void add(char[] d, int hs, int he, int as, int ae) {
            if (4 * count + 4 > at.length) {
                at = java.util.Arrays.copyOf(at, at.length * 2);
            }
            int i = 4 * count;
            at[i] = text.length();
            at[i + 1] = escapeStripped(d, hs, he);
            if (as < 0) {
                at[i + 2] = 0;
                at[i + 3] = -1;
            } else {
                at[i + 2] = text.length();
                at[i + 3] = escapeStripped(d, as, ae);
            }
            count++;
        }

        /** Escapes {@code d[from, to)} stripped of Python whitespace onto {@link #text}; returns the byte count. */
        private int escapeStripped(char[] d, int from, int to) {
            int s = from;
            int e = to;
            while (e > s && PyText.isSpace(d[e - 1])) {
                e--;
            }
            while (s < e && PyText.isSpace(d[s])) {
                s++;
            }
            int start = text.length();
            byte[] b = text.room(PyJson.maxEscaped(e - s));
            text.setLength(PyJson.escape(d, s, e, b, start));
            return text.length() - start;
        }
    }

    /**
     * Appends the sequences of one record ({@code chosen}, {@code rejected} already parsed into
     * turns) to {@code out}, one JSON line each, and each line's end offset to {@code ends}.
     */
    void write(Turns chosen, Turns rejected, PyJson out, LineEnds ends) {
        for (byte[] head : heads) {
            for (FeedbackType type : types) {
                out.appendRaw(head, 0, head.length);
                switch (type) {
                    case P -> sequence(chosen, true, null, false, out);
                    case N -> sequence(rejected, false, null, false, out);
                    case NP -> sequence(rejected, false, chosen, true, out);
                    case PN -> sequence(chosen, true, rejected, false, out);
                }
                ends.add(out.length());
            }
        }
    }

    /**
     * One sequence: the first dialogue's keys in order, then the second's that are new (its
     * human texts replace the first's under the same keys, in place, as a dict assignment does).
     */
    private void sequence(Turns first, boolean firstPositive, Turns second, boolean secondPositive, PyJson out) {
        for (int k = 0; k < first.count; k++) {
            if (second != null && k < second.count) {
                value(out, userKey(k), second, second.humanFrom(k), second.humanLength(k));
            } else {
                value(out, userKey(k), first, first.humanFrom(k), first.humanLength(k));
            }
            if (first.answerLength(k) >= 0) {
                value(out, answerKey(firstPositive, k), first, first.answerFrom(k), first.answerLength(k));
            }
        }
        if (second != null) {
            for (int k = 0; k < second.count; k++) {
                if (k >= first.count) {
                    value(out, userKey(k), second, second.humanFrom(k), second.humanLength(k));
                }
                if (second.answerLength(k) >= 0) {
                    value(out, answerKey(secondPositive, k), second, second.answerFrom(k), second.answerLength(k));
                }
            }
        }
        out.appendRaw(FIELDS_KEY, 0, FIELDS_KEY.length);
        boolean any = fields(first, firstPositive, false, out);
        if (second != null) {
            fields(second, secondPositive, any, out);
        }
        out.appendRaw(LINE_END, 0, LINE_END.length);
    }

    private static void value(PyJson out, byte[] key, Turns turns, int from, int length) {
        out.appendRaw(key, 0, key.length);
        out.appendRaw(turns.text.bytes(), from, length);
    }

    private boolean fields(Turns turns, boolean positive, boolean any, PyJson out) {
        boolean wrote = any;
        for (int k = 0; k < turns.count; k++) {
            if (turns.answerLength(k) < 0) {
                continue;
            }
            if (wrote) {
                out.appendRaw(COMMA, 0, 1);
            }
            byte[] piece = fieldPiece(positive, k);
            out.appendRaw(piece, 0, piece.length);
            wrote = true;
        }
        return wrote;
    }

    /** A growable list of line end offsets. */
    static final class LineEnds {
        int count;
        int[] at = new int[256];

        void add(int end) {
            if (count == at.length) {
                at = java.util.Arrays.copyOf(at, count * 2);
            }
            at[count++] = end;
        }

        void clear() {
            count = 0;
        }
    }
}
