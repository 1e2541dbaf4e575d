package io.cohx.eval.human;

import io.cohx.eval.Estimate;
import io.cohx.eval.Intervals;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Win / tie / loss percentages of each model over all votes, as the CoH paper's human
 * evaluation tables report them: for model A, win = votes preferring A, tie = ties, loss = votes
 * preferring B, each over all votes, with a Wilson 95% interval per share; model B's row is the
 * mirror image. Also the number of votes per rater.
 */
public record HumanResults(String modelA, String modelB, long votes, long aWins, long ties, long bWins, Map<String, Long> perRater) {

    /** One model's row. */
    public record Row(String model, Estimate win, Estimate tie, Estimate loss, long votes) {}

    public static HumanResults of(VoteStore store) {
        return of(store.modelA(), store.modelB(), store.votes());
    }

    public static HumanResults of(String modelA, String modelB, List<VoteStore.Vote> votes) {
        long a = 0;
        long t = 0;
        long b = 0;
        Map<String, Long> raters = new TreeMap<>();
        for (VoteStore.Vote v : votes) {
            switch (v.winner()) {
                case "a" -> a++;
                case "b" -> b++;
                default -> t++;
            }
            raters.merge(v.rater(), 1L, Long::sum);
        }
        return new HumanResults(modelA, modelB, votes.size(), a, t, b, raters);
    }

    public List<Row> rows() {
        return List.of(
                new Row(modelA, Intervals.wilson(aWins, votes), Intervals.wilson(ties, votes), Intervals.wilson(bWins, votes), votes),
                new Row(modelB, Intervals.wilson(bWins, votes), Intervals.wilson(ties, votes), Intervals.wilson(aWins, votes), votes));
    }

    public void print(PrintStream out) {
        out.printf("human evaluation: %d votes from %d raters (95%% Wilson intervals)%n", votes, perRater.size());
        out.printf("  %-24s %-24s %-24s %-24s%n", "model", "win", "tie", "loss");
        for (Row r : rows()) {
            out.printf("  %-24s %-24s %-24s %-24s%n", r.model(), r.win().format(true), r.tie().format(true), r.loss().format(true));
        }
        perRater.forEach((k, v) -> out.printf("  rater %s: %d votes%n", k, v));
    }

    /** The table as CSV: one line per model, shares as fractions. */
    public String csv() {
        var sb = new StringBuilder("model,votes,win,win_low,win_high,tie,tie_low,tie_high,loss,loss_low,loss_high\n");
        for (Row r : rows()) {
            sb.append(Csv.field(r.model())).append(',').append(r.votes());
            for (Estimate e : List.of(r.win(), r.tie(), r.loss())) {
                sb.append(',').append(e.value()).append(',').append(e.low()).append(',').append(e.high());
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    /** Every vote as CSV, with the winning model by name. */
    public static String votesCsv(VoteStore store) {
        var sb = new StringBuilder("rater,item,winner,shown_first,created,prompt\n");
        List<String> names = new ArrayList<>(List.of(store.modelA(), store.modelB()));
        for (VoteStore.Vote v : store.votes()) {
            String winner = switch (v.winner()) {
                case "a" -> names.get(0);
                case "b" -> names.get(1);
                default -> "tie";
            };
            sb.append(Csv.field(v.rater())).append(',').append(v.item()).append(',').append(Csv.field(winner)).append(',')
                    .append(Csv.field(v.first().equals("a") ? names.get(0) : names.get(1))).append(',').append(v.created()).append(',')
                    .append(Csv.field(store.item(v.item()).prompt())).append('\n');
        }
        return sb.toString();
    }

    /** RFC 4180 quoting. */
    static final class Csv {
        private Csv() {}

        static String field(String s) {
            return s.contains(",") || s.contains("\"") || s.contains("\n") || s.contains("\r") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
        }
    }
}
