package io.cohx.engine.mesh;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Partition rules as data: an ordered list of (parameter-path regex, {@link PartitionSpec}); the
 * first rule whose regex is found in the path wins, as in the original trainer. Paths use dots
 * ({@code transformer.h.3.attention.wq.kernel}); the built-in rules accept {@code .} or {@code /}.
 * A rules file has one rule per line, {@code REGEX -> AXIS,AXIS,...} with {@code None} for an
 * unsplit dimension and {@code a+b} for a dimension split over two axes; {@code #} starts a comment.
 */
public record PartitionRules(List<Rule> rules) {

    /** One rule. */
    public record Rule(Pattern pattern, PartitionSpec spec) {}

    private static final String S = "[./]";

    /** LLaMA, as docs/COH.md#partition-rules: embedding (mp, fsdp); q/k/v, w1, w3, lm_head (fsdp, mp); wo, w2 (mp, fsdp); norms replicated. */
    public static final PartitionRules LLAMA = new PartitionRules(List.of(
            rule("wte" + S + "embedding", "mp", "fsdp"),
            rule("attention" + S + "(wq|wk|wv)" + S + "kernel", "fsdp", "mp"),
            rule("attention" + S + "wo" + S + "kernel", "mp", "fsdp"),
            rule("feed_forward" + S + "(w1|w3)" + S + "kernel", "fsdp", "mp"),
            rule("feed_forward" + S + "w2" + S + "kernel", "mp", "fsdp"),
            rule("(attention_norm|ffn_norm|ln_f)" + S + "kernel"),
            rule("lm_head" + S + "kernel", "fsdp", "mp"),
            rule(".*")));

    /** GPT-J, as docs/COH.md#partition-rules: wte (mp, fsdp); q/k/v (fsdp, mp); out_proj (mp, fsdp); fc_in (fsdp, mp) + bias (mp); fc_out (mp, fsdp); lm_head (fsdp, mp) + bias (mp). */
    public static final PartitionRules GPTJ = new PartitionRules(List.of(
            rule("wte" + S + "embedding", "mp", "fsdp"),
            rule("attn" + S + "(q_proj|k_proj|v_proj)" + S + "kernel", "fsdp", "mp"),
            rule("attn" + S + "out_proj" + S + "kernel", "mp", "fsdp"),
            rule("mlp" + S + "fc_in" + S + "kernel", "fsdp", "mp"),
            rule("mlp" + S + "fc_in" + S + "bias", "mp"),
            rule("mlp" + S + "fc_out" + S + "kernel", "mp", "fsdp"),
            rule("mlp" + S + "fc_out" + S + "bias"),
            rule("ln_[0-9f]" + S + "(scale|bias)"),
            rule("lm_head" + S + "kernel", "fsdp", "mp"),
            rule("lm_head" + S + "bias", "mp"),
            rule(".*")));

    /** Batches ([batch, seq, ...]) are split over dp and fsdp together on their first dimension. */
    public static final PartitionSpec BATCH = PartitionSpec.ofGroups(List.of(List.of("dp", "fsdp")));

    private static Rule rule(String regex, String... axes) {
        return new Rule(Pattern.compile(regex), axes.length == 0 ? PartitionSpec.REPLICATED : PartitionSpec.of(axes));
    }

    /** The spec of the first rule that matches {@code path}; replicated when none does. */
    public PartitionSpec specFor(String path) {
        for (Rule r : rules) {
            if (r.pattern().matcher(path).find()) {
                return r.spec();
            }
        }
        return PartitionSpec.REPLICATED;
    }

    /** Reads a rules file (format in the class comment); errors name the file and line. */
    public static PartitionRules read(Path file) throws IOException {
        var out = new ArrayList<Rule>();
        List<String> lines = Files.readAllLines(file);
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            int hash = line.indexOf('#');
            String t = (hash >= 0 ? line.substring(0, hash) : line).strip();
            if (t.isEmpty()) {
                continue;
            }
            int arrow = t.lastIndexOf("->");
            if (arrow < 0) {
                throw new IOException(file + ":" + (i + 1) + ": expected 'REGEX -> AXES' (e.g. 'attention.wq.kernel -> fsdp,mp'), got: " + line);
            }
            Pattern p;
            try {
                p = Pattern.compile(t.substring(0, arrow).strip());
            } catch (PatternSyntaxException e) {
                throw new IOException(file + ":" + (i + 1) + ": bad regex: " + e.getDescription());
            }
            String axes = t.substring(arrow + 2).strip();
            var dims = new ArrayList<List<String>>();
            if (!axes.isEmpty() && !axes.equalsIgnoreCase("replicated")) {
                for (String d : axes.split(",")) {
                    String x = d.strip();
                    dims.add(x.equalsIgnoreCase("none") || x.isEmpty() ? List.of() : List.of(x.split("\\+")));
                }
            }
            for (var d : dims) {
                for (String a : d) {
                    if (!Mesh.AXES.contains(a)) {
                        throw new IOException(file + ":" + (i + 1) + ": unknown mesh axis '" + a + "'; axes are " + Mesh.AXES);
                    }
                }
            }
            out.add(new Rule(p, PartitionSpec.ofGroups(dims)));
        }
        return new PartitionRules(List.copyOf(out));
    }
}
