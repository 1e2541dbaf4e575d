package io.cohx.coh.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * One input file of a feedback dataset and the split its records go to ({@code null}: each
 * record says so itself in its {@code split} field, as the published summary comparison batches
 * do). {@link #resolve} expands a folder into its data files in a stable (sorted) order.
 */
public record InputFile(Path path, Split split) {

    static boolean isDataFile(Path p) {
        String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
        return n.endsWith(".jsonl") || n.endsWith(".jsonl.gz") || n.endsWith(".json") || n.endsWith(".json.gz")
                || n.endsWith(".ndjson");
    }

    /**
     * The data files of {@code path} (a file, or a folder searched recursively) with their split:
     * {@code forced} if given, else from the file name ("train" / "test", "valid", "eval"), else
     * train for webgpt (it has no other split), else per record for summary.
     */
    public static List<InputFile> resolve(FeedbackDataset dataset, Path path, Split forced) {
        if (!Files.exists(path)) {
            throw new DataException("--input " + dataset.cliName() + "=" + path + ": no such file or folder");
        }
        var files = new ArrayList<Path>();
        if (Files.isDirectory(path)) {
            try (Stream<Path> walk = Files.walk(path)) {
                walk.filter(Files::isRegularFile).filter(InputFile::isDataFile)
                        .filter(p -> !p.getFileName().toString().startsWith("."))
                        .filter(p -> !p.getFileName().toString().equals("dataset_infos.json"))
                        .sorted().forEach(files::add);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            if (files.isEmpty()) {
                throw new DataException("--input " + dataset.cliName() + "=" + path
                        + ": the folder holds no .jsonl, .jsonl.gz or .json files");
            }
        } else {
            files.add(path);
        }
        var out = new ArrayList<InputFile>();
        for (Path f : files) {
            Split split = forced;
            if (split == null) {
                Path rel = Files.isDirectory(path) ? path.relativize(f) : f.getFileName();
                split = Split.fromFileName(f.getFileName().toString());
                if (split == null) {
                    split = Split.fromFileName(rel.toString());
                }
            }
            if (split == null && dataset == FeedbackDataset.WEBGPT) {
                split = Split.TRAIN;
            }
            if (split == null && dataset != FeedbackDataset.SUMMARY) {
                throw new DataException("cannot tell whether " + f + " is train or eval data: put 'train' or 'test'"
                        + " in its name, or pass --input " + dataset.cliName() + ".train=" + f
                        + " (or ." + "eval=)");
            }
            out.add(new InputFile(f, split));
        }
        return out;
    }
}
