package io.cohx.eval.human;

import io.cohx.eval.EvalException;
import io.cohx.eval.JsonLines;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What raters compare: two JSON-lines files of model outputs for the same prompts, one object
 * per line with {@code prompt} and {@code output} (as {@code cohx eval summary --generations}
 * writes them). Line i of one file and line i of the other must hold the same prompt; item ids
 * are 1-based positions.
 */
public record HumanItems(String modelA, String modelB, List<Item> items) {

    /** One prompt and the two models' answers. */
    public record Item(int id, String prompt, String outputA, String outputB) {}

    public HumanItems {
        items = List.copyOf(items);
        if (modelA.equals(modelB)) {
            throw new EvalException("the two models need different names, both are '" + modelA + "'; pass --name-a and --name-b");
        }
    }

    public static HumanItems read(Path a, String nameA, Path b, String nameB) {
        List<JsonLines.Line> la = JsonLines.read(a, 0);
        List<JsonLines.Line> lb = JsonLines.read(b, 0);
        if (la.size() != lb.size()) {
            throw new EvalException(a + " has " + la.size() + " outputs but " + b + " has " + lb.size()
                    + "; give both models' outputs for the same prompts, in the same order");
        }
        if (la.isEmpty()) {
            throw new EvalException(a + ": no outputs");
        }
        List<Item> items = new ArrayList<>();
        for (int i = 0; i < la.size(); i++) {
            String pa = la.get(i).text(a, "prompt");
            String pb = lb.get(i).text(b, "prompt");
            if (!pa.equals(pb)) {
                throw new EvalException(b + ":" + lb.get(i).number() + ": the prompt differs from " + a + ":" + la.get(i).number()
                        + " (" + abbreviate(pb) + " vs " + abbreviate(pa) + "); both files must list the same prompts in the same order");
            }
            items.add(new Item(i + 1, pa, la.get(i).text(a, "output"), lb.get(i).text(b, "output")));
        }
        return new HumanItems(nameA, nameB, items);
    }

    /** A model's name from its file: the file name without .jsonl / .jsonl.gz. */
    public static String nameOf(Path file) {
        return file.getFileName().toString().replaceFirst("\\.gz$", "").replaceFirst("\\.jsonl?$", "");
    }

    private static String abbreviate(String s) {
        return "'" + (s.length() > 40 ? s.substring(0, 40) + "..." : s) + "'";
    }
}
