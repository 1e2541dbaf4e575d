package io.cohx.eval;

import io.cohx.coh.data.DialoguePacker;
import io.cohx.models.checkpoint.AtomicFiles;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A deterministic train / held-out split of an HH-RLHF-style file, so that a CoH fine-tune never
 * sees the pairs it is evaluated on. Records are grouped by their opening human turn (so pairs
 * that start the same conversation land on the same side), groups are ordered by
 * SHA-256(seed, opening), and whole groups go to the held-out set until it has at least the
 * requested number of records. The order of the input file does not matter; the same file and
 * seed always give the same split. Lines are copied verbatim, in input order;
 * {@code split.json} records the counts, seed and source.
 */
public final class PairSplit {
    private PairSplit() {}

    public record Result(Path train, Path heldOut, int trainRecords, int heldOutRecords) {}

    public static Result split(Path input, int heldOut, long seed, Path outputDir) {
        List<JsonLines.Line> lines = JsonLines.read(input, 0);
        if (heldOut < 1 || heldOut >= lines.size()) {
            throw new EvalException("--held-out " + heldOut + ": give 1.." + (lines.size() - 1) + " (the file has " + lines.size()
                    + " records)");
        }
        Map<String, List<Integer>> groups = new LinkedHashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            String chosen = lines.get(i).text(input, "chosen");
            lines.get(i).text(input, "rejected");
            var turns = DialoguePacker.turns(chosen);
            String opening = turns.isEmpty() ? chosen.strip() : turns.getFirst().human();
            groups.computeIfAbsent(opening, k -> new ArrayList<>()).add(i);
        }
        List<String> order = new ArrayList<>(groups.keySet());
        Map<String, String> hash = new LinkedHashMap<>();
        for (String k : order) {
            hash.put(k, sha256(seed + "\n" + k));
        }
        order.sort(Comparator.comparing(hash::get));
        boolean[] held = new boolean[lines.size()];
        int taken = 0;
        for (String k : order) {
            if (taken >= heldOut) {
                break;
            }
            for (int i : groups.get(k)) {
                held[i] = true;
                taken++;
            }
        }
        var train = new StringBuilder();
        var test = new StringBuilder();
        for (int i = 0; i < lines.size(); i++) {
            (held[i] ? test : train).append(lines.get(i).raw()).append('\n');
        }
        try {
            Files.createDirectories(outputDir);
        } catch (java.io.IOException e) {
            throw new EvalException("cannot create " + outputDir + ": " + e.getMessage(), e);
        }
        Path trainFile = outputDir.resolve("train.jsonl");
        Path heldFile = outputDir.resolve("heldout.jsonl");
        AtomicFiles.writeString(trainFile, train.toString());
        AtomicFiles.writeString(heldFile, test.toString());
        var meta = new LinkedHashMap<String, Object>();
        meta.put("source", input.toString());
        meta.put("seed", seed);
        meta.put("records", lines.size());
        meta.put("train", lines.size() - taken);
        meta.put("held_out", taken);
        meta.put("rule", "group by opening human turn; order groups by sha256(seed + newline + opening); held-out takes whole groups"
                + " until it has >= the requested records");
        try {
            AtomicFiles.writeString(outputDir.resolve("split.json"), EvalReport.JSON.writeValueAsString(meta) + "\n");
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new EvalException(e.getMessage(), e);
        }
        return new Result(trainFile, heldFile, lines.size() - taken, taken);
    }

    static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
