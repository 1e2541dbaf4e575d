package io.cohx.coh.data;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * {@code cohx pack}: reads the feedback datasets, turns every record into Chain of Hindsight
 * sequences (COH_SPEC.md §2) and writes, for feedback selection {@code T} (the option string):
 * {@code <prefix>_train_T.jsonl} / {@code <prefix>_eval_T.jsonl} per dataset, the combined
 * {@code train_T.jsonl} / {@code eval_T.jsonl} with every dataset appended in order (the
 * reference kept only the last dataset), and {@code train_T_shuffled.jsonl} /
 * {@code eval_T_shuffled.jsonl} shuffled with the recorded seed (the reference's shuffle was
 * unseeded). Nothing is written to the output folder unless the whole run succeeds.
 */
public final class PackJob {

    /**
     * What to pack. {@code inputs} holds local files per dataset; a dataset without any is
     * downloaded through {@code hub} (null: offline, which is then an error).
     */
    public record Request(List<FeedbackDataset> datasets, Map<FeedbackDataset, List<InputFile>> inputs,
                          PackOptions options, Path outputDir, boolean strict, HubDatasets hub) {
    }

    private final Request request;
    private final PrintStream log;
    private final PackReport report = new PackReport();
    private final PyJson json = new PyJson();

    public PackJob(Request request, PrintStream log) {
        this.request = request;
        this.log = log;
    }

    public static String trainFile(String types) {
        return "train_" + types + ".jsonl";
    }

    public static String evalFile(String types) {
        return "eval_" + types + ".jsonl";
    }

    public PackReport run() {
        String types = request.options().feedback().text();
        var problems = new InputProblems(request.strict(), log);
        var progress = new ProgressLine(log);
        try (var out = new OutputFiles(request.outputDir())) {
            for (FeedbackDataset dataset : request.datasets()) {
                List<InputFile> files = request.inputs().get(dataset);
                if (files == null || files.isEmpty()) {
                    if (request.hub() == null) {
                        throw new DataException("no --input for " + dataset.cliName() + " and --offline is set: pass"
                                + " --input " + dataset.cliName() + "=FILE_OR_FOLDER");
                    }
                    files = request.hub().fetch(dataset);
                }
                packDataset(dataset, files, types, out, problems, progress);
            }
            progress.done();
            for (Split split : Split.values()) {
                String all = split == Split.TRAIN ? trainFile(types) : evalFile(types);
                var parts = request.datasets().stream().map(d -> datasetFile(d, split, types)).filter(out::has).toList();
                if (!parts.isEmpty()) {
                    report.file(all, out.concat(all, parts));
                    String shuffled = split.label() + "_" + types + "_shuffled.jsonl";
                    var rng = new SeededChoice(request.options().seed() + ":shuffle:" + split.label());
                    report.file(shuffled, out.writeShuffled(all, shuffled, rng));
                }
            }
            out.commit();
        } catch (IOException e) {
            throw new DataException("cannot write to " + request.outputDir() + ": " + e.getMessage(), e);
        }
        return report;
    }

    private void packDataset(FeedbackDataset dataset, List<InputFile> files, String types, OutputFiles out,
                             InputProblems problems, ProgressLine progress) throws IOException {
        FeedbackPacker packer = dataset.packer(request.options());
        var index = new EnumMap<Split, Long>(Split.class);
        long problemsBefore = problems.total();
        for (InputFile file : files) {
            RecordReader.read(file.path(), problems, (record, line) -> {
                Split own = dataset == FeedbackDataset.SUMMARY ? Split.fromRecord(record) : null;
                Split split = own != null ? own : file.split();
                if (split == null) {
                    problems.report("no split", file.path() + ":" + line, "the record has no 'split' field and the"
                            + " file name says neither train nor test; pass --input " + dataset.cliName()
                            + ".train=" + file.path());
                    return;
                }
                long i = index.merge(split, 1L, Long::sum) - 1;
                var counts = report.counts(dataset, split);
                counts.records++;
                packRecord(dataset, packer, record, split, i, file.path() + ":" + line, types, out, problems, counts);
                long total = report.totalRecords();
                progress.tick(() -> String.format("pack: %s %s, %,d records, %,d sequences, %,.0f records/s",
                        dataset.cliName(), split.label(), total, report.totalSequences(), total / progress.seconds()));
            });
        }
        for (Split split : Split.values()) {
            String name = datasetFile(dataset, split, types);
            if (out.has(name)) {
                report.file(name, out.lines(name, true).lines());
            }
        }
        var train = report.get(dataset, Split.TRAIN);
        if (train.sequences() == 0) {
            throw new DataException(dataset.cliName() + ": no training sequences from " + train.records() + " records in "
                    + files.size() + " file(s) (" + (problems.total() - problemsBefore) + " input problems, "
                    + train.skippedTotal() + " skipped); check that --input points at " + dataset.cliName()
                    + " data (first file: " + files.getFirst().path() + ")");
        }
        if (dataset.hasEvalSplit() && report.get(dataset, Split.EVAL).records() == 0) {
            log.println("warning: " + dataset.cliName() + " has no eval records; no " + dataset.filePrefix()
                    + "_eval file is written");
        }
    }

    private void packRecord(FeedbackDataset dataset, FeedbackPacker packer, JsonNode record, Split split, long index,
                            String where, String types, OutputFiles out, InputProblems problems,
                            PackReport.SplitCounts counts) {
        FeedbackPacker.Packed packed;
        try {
            packed = packer.pack(record, SeededChoice.forRecord(request.options().seed(), dataset.cliName(),
                    split.label(), index));
        } catch (RecordFields.BadField e) {
            counts.skipped.merge("bad field '" + e.field + "'", 1L, Long::sum);
            problems.report("bad field '" + e.field + "'", where, e.getMessage());
            return;
        }
        if (packed.skipReason() != null) {
            counts.skipped.merge(packed.skipReason(), 1L, Long::sum);
            return;
        }
        try {
            var own = out.lines(datasetFile(dataset, split, types), true);
            json.reset();
            for (CohSequence seq : packed.sequences()) {
                int start = json.length();
                json.appendLine(seq.entries());
                own.write(json.bytes(), start, json.length() - start);
                counts.sequences.merge(seq.type(), 1L, Long::sum);
            }
            json.forget();
        } catch (IOException e) {
            throw new DataException("cannot write to " + request.outputDir() + ": " + e.getMessage(), e);
        }
    }

    private static String datasetFile(FeedbackDataset dataset, Split split, String types) {
        return dataset.filePrefix() + "_" + split.label() + "_" + types + ".jsonl";
    }
}
