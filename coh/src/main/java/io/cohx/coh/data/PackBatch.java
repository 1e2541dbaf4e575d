package io.cohx.coh.data;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.TreeMap;

/**
 * One batch of input records of {@code cohx pack} on its way to the output files, worked on by a
 * pool thread in two steps: {@link #parse()} (decode, parse, find each record's split) and
 * {@link #pack(long[])} (turn records into sequences and JSON lines), the second once the record
 * numbers of all earlier batches are known, since a record's seeded choices depend on its number
 * within its split. What must happen in input order (reporting problems, which may stop a
 * {@code --strict} run, counting, writing) is left to the single writer, {@link PackJob}.
 */
final class PackBatch {

    /** A problem of one record, reported by the writer in input order. */
    record Problem(String reason, String where, String detail) {
    }

    /**
     * What one pack run packs with, shared by all batches and threads: read-only but for
     * {@code spare}, output buffers of written batches that later batches reuse (they grow to a
     * few megabytes; allocating them afresh per batch cost more than filling them).
     */
    record Setup(FeedbackDataset dataset, FeedbackPacker packer, DialogueFormatter dialogue, long seed,
                 Queue<Output> spare) {
    }

    /** The JSON lines of a batch per split, and their end offsets. */
    static final class Output {
        final PyJson[] json = {new PyJson(), new PyJson()};
        final DialogueFormatter.LineEnds[] ends = {new DialogueFormatter.LineEnds(), new DialogueFormatter.LineEnds()};
        /** The decoded dialogue texts of the batch's records. */
        final DialogueLine texts = new DialogueLine();

        private void clear() {
            texts.clear();
            for (int s = 0; s < 2; s++) {
                json[s].reset();
                json[s].forget();
                ends[s].clear();
            }
        }
    }

    private final Setup setup;
    private final InputFile file;
    private final RecordBatches.Batch batch;

    /** Marks a record whose dialogue texts are in {@link Output#texts} at {@link #textAt}. */
    private static final Object DIALOGUE_TEXTS = new Object();

    /** Per item: the record (a JsonNode, or {@link #DIALOGUE_TEXTS}) or null. */
    private Object[] records;
    /** Per item: chosen from, length, rejected from, length in {@link Output#texts}. */
    private int[] textAt;
    private Split[] splits;
    private int[] numbers;
    private Problem[] itemProblems;
    /** Records per split in this batch (after {@link #parse()}). */
    private final long[] recordCount = new long[2];
    private final List<Split> splitOrder = new ArrayList<>(2);

    // Results of pack(): per split, the JSON lines and their end offsets, sequences per type, skips.
    final Output output;
    final long[][] sequences = new long[2][FeedbackType.values().length];
    final List<Map<String, Long>> skipped = List.of(new TreeMap<>(), new TreeMap<>());
    final List<Problem> problems = new ArrayList<>();

    PackBatch(Setup setup, InputFile file, RecordBatches.Batch batch) {
        this.setup = setup;
        this.file = file;
        this.batch = batch;
        Output reused = setup.spare().poll();
        this.output = reused != null ? reused : new Output();
    }

    /** Hands the output buffers to a later batch; call once the lines are written. */
    void release() {
        output.clear();
        setup.spare().offer(output);
    }

    long recordCount(Split s) {
        return recordCount[s.ordinal()];
    }

    /** The splits of this batch's records in order of first appearance. */
    List<Split> splitOrder() {
        return splitOrder;
    }

    private String where(long line) {
        return file.path() + ":" + line;
    }

    /** Decodes and parses every item and gives each record its split and number within the batch. */
    PackBatch parse() {
        int n = batch.count;
        records = new Object[n];
        splits = new Split[n];
        numbers = new int[n];
        itemProblems = new Problem[n];
        boolean dialogue = setup.dialogue() != null;
        DialogueLine texts = output.texts;
        if (dialogue) {
            textAt = new int[4 * n];
        }
        for (int i = 0; i < n; i++) {
            Object record;
            JsonNode node = null;
            if (dialogue && !batch.isArray() && texts.read(batch.data, batch.starts[i], batch.ends[i])) {
                record = DIALOGUE_TEXTS;
                textAt[4 * i] = texts.chosenFrom;
                textAt[4 * i + 1] = texts.chosenLength;
                textAt[4 * i + 2] = texts.rejectedFrom;
                textAt[4 * i + 3] = texts.rejectedLength;
            } else {
                var parsed = RecordBatches.record(batch, i);
                if (parsed.problem() != null) {
                    itemProblems[i] = new Problem(parsed.reason(), where(batch.line(i)), parsed.problem());
                    continue;
                }
                if (parsed.node() == null) {
                    continue;
                }
                node = parsed.node();
                record = node;
                JsonNode c = node.get("chosen");
                JsonNode r = node.get("rejected");
                if (dialogue && c != null && c.isTextual() && r != null && r.isTextual()) {
                    record = DIALOGUE_TEXTS;
                    textAt[4 * i] = texts.append(c.textValue());
                    textAt[4 * i + 1] = c.textValue().length();
                    textAt[4 * i + 2] = texts.append(r.textValue());
                    textAt[4 * i + 3] = r.textValue().length();
                }
            }
            Split own = setup.dataset() == FeedbackDataset.SUMMARY ? Split.fromRecord(node) : null;
            Split split = own != null ? own : file.split();
            if (split == null) {
                itemProblems[i] = new Problem("no split", where(batch.line(i)), "the record has no 'split' field and the"
                        + " file name says neither train nor test; pass --input " + setup.dataset().cliName()
                        + ".train=" + file.path());
                continue;
            }
            records[i] = record;
            splits[i] = split;
            if (recordCount[split.ordinal()] == 0) {
                splitOrder.add(split);
            }
            numbers[i] = (int) recordCount[split.ordinal()]++;
        }
        return this;
    }

    /**
     * Packs every record into JSON lines; {@code base} holds, per split, the number of records
     * of the dataset before this batch (so record numbers, and with them the seeded choices,
     * are those of a one-by-one run).
     */
    PackBatch pack(long[] base) {
        var chosen = new DialogueFormatter.Turns();
        var rejected = new DialogueFormatter.Turns();
        DialogueFormatter dialogue = setup.dialogue();
        FeedbackType[] dialogueTypes = dialogue == null ? null : dialogue.types();
        for (int i = 0; i < batch.count; i++) {
            if (itemProblems[i] != null) {
                problems.add(itemProblems[i]);
                continue;
            }
            Object record = records[i];
            if (record == null) {
                continue;
            }
            Split split = splits[i];
            int s = split.ordinal();
            PyJson json = output.json[s];
            if (record == DIALOGUE_TEXTS) {
                char[] text = output.texts.text;
                chosen.parse(text, textAt[4 * i], textAt[4 * i + 1]);
                rejected.parse(text, textAt[4 * i + 2], textAt[4 * i + 3]);
                dialogue.write(chosen, rejected, json, output.ends[s]);
                for (FeedbackType type : dialogueTypes) {
                    sequences[s][type.ordinal()] += dialogue.pairs();
                }
                continue;
            }
            FeedbackPacker.Packed packed;
            try {
                packed = setup.packer().pack((JsonNode) record, SeededChoice.forRecord(setup.seed(),
                        setup.dataset().cliName(), split.label(), base[s] + numbers[i]));
            } catch (RecordFields.BadField e) {
                String reason = "bad field '" + e.field + "'";
                skipped.get(s).merge(reason, 1L, Long::sum);
                problems.add(new Problem(reason, where(batch.line(i)), e.getMessage()));
                continue;
            }
            if (packed.skipReason() != null) {
                skipped.get(s).merge(packed.skipReason(), 1L, Long::sum);
                continue;
            }
            for (CohSequence seq : packed.sequences()) {
                json.appendLine(seq.entries());
                output.ends[s].add(json.length());
                sequences[s][seq.type().ordinal()]++;
            }
            json.forget();
        }
        if (batch.trailingProblem != null) {
            problems.add(new Problem(RecordBatches.MALFORMED_JSON, where(batch.trailingLine), batch.trailingProblem));
        }
        records = null;
        textAt = null;
        return this;
    }

    /** {@code base} plus this batch's records per split: the base of the next batch. */
    long[] nextBase(long[] base) {
        return new long[] {base[0] + recordCount[0], base[1] + recordCount[1]};
    }
}
