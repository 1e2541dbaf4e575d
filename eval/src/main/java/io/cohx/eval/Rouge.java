package io.cohx.eval;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * ROUGE-1, ROUGE-2 and ROUGE-L, the way Google's {@code rouge-score} package computes them with
 * {@code RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=False)}: text is lower-cased,
 * every run of characters other than {@code a-z0-9} becomes a space, and the words are the
 * pieces between spaces. ROUGE-N counts n-grams shared by reference and prediction (each at most
 * as often as it occurs in both); ROUGE-L uses the longest common subsequence of the whole
 * texts (not rougeLsum's per-line variant). Precision divides by the prediction's count, recall
 * by the reference's, F1 = 2PR/(P+R), and 0 when a side has no words.
 * {@code RougeGoldenTest} checks all three against the package on real text pairs.
 */
public final class Rouge {
    private Rouge() {}

    /** Precision, recall and F1 of one ROUGE variant. */
    public record Score(double precision, double recall, double f1) {
        static Score of(double overlap, int predicted, int reference) {
            double p = overlap / Math.max(predicted, 1);
            double r = overlap / Math.max(reference, 1);
            return new Score(p, r, p + r > 0 ? 2 * p * r / (p + r) : 0);
        }
    }

    /** The three scores of one prediction against one reference. */
    public record Scores(Score rouge1, Score rouge2, Score rougeL) {}

    public static Scores score(String reference, String prediction) {
        List<String> ref = tokens(reference);
        List<String> pred = tokens(prediction);
        return new Scores(ngram(ref, pred, 1), ngram(ref, pred, 2), lcs(ref, pred));
    }

    /** The words ROUGE compares: lower-case ASCII letters and digits, split at everything else. */
    public static List<String> tokens(String text) {
        // Python's str.lower() and Java's root-locale lower-casing agree on every character that
        // lower-cases into a-z (ASCII letters, KELVIN SIGN, and the dotted capital I's "i" + dot).
        String lower = text.toLowerCase(Locale.ROOT);
        List<String> out = new ArrayList<>();
        int start = -1;
        for (int i = 0; i <= lower.length(); i++) {
            char c = i < lower.length() ? lower.charAt(i) : ' ';
            boolean word = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
            if (word && start < 0) {
                start = i;
            } else if (!word && start >= 0) {
                out.add(lower.substring(start, i));
                start = -1;
            }
        }
        return out;
    }

    static Score ngram(List<String> ref, List<String> pred, int n) {
        Map<List<String>, Integer> refCounts = ngrams(ref, n);
        Map<List<String>, Integer> predCounts = ngrams(pred, n);
        int overlap = 0;
        for (var e : refCounts.entrySet()) {
            overlap += Math.min(e.getValue(), predCounts.getOrDefault(e.getKey(), 0));
        }
        return Score.of(overlap, Math.max(0, pred.size() - n + 1), Math.max(0, ref.size() - n + 1));
    }

    private static Map<List<String>, Integer> ngrams(List<String> tokens, int n) {
        Map<List<String>, Integer> counts = new HashMap<>();
        for (int i = 0; i + n <= tokens.size(); i++) {
            counts.merge(tokens.subList(i, i + n), 1, Integer::sum);
        }
        return counts;
    }

    static Score lcs(List<String> ref, List<String> pred) {
        if (ref.isEmpty() || pred.isEmpty()) {
            return new Score(0, 0, 0);
        }
        // One row of the LCS table at a time: O(|pred|) memory.
        int[] prev = new int[pred.size() + 1];
        int[] cur = new int[pred.size() + 1];
        for (String r : ref) {
            for (int j = 1; j <= pred.size(); j++) {
                cur[j] = r.equals(pred.get(j - 1)) ? prev[j - 1] + 1 : Math.max(prev[j], cur[j - 1]);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return Score.of(prev[pred.size()], pred.size(), ref.size());
    }
}
