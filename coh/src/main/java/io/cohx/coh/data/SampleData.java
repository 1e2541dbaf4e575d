package io.cohx.coh.data;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * The small data sets that ship inside cohx (written by us from templates by
 * {@code tools/sample/make_samples.py}): an HH-RLHF-format feedback set (320 train, 40 test
 * dialogues) and a pretraining text sample ({@code {"text": ...}} lines). Demos and tests use them
 * when no real data is given; {@link #copyTo} puts them on disk for the file-based readers.
 */
public final class SampleData {

    public static final String FEEDBACK_TRAIN = "feedback_train.jsonl.gz";
    public static final String FEEDBACK_TEST = "feedback_test.jsonl.gz";
    public static final String PRETRAIN = "pretrain.jsonl.gz";

    private SampleData() {
    }

    public static InputStream open(String name) {
        InputStream in = SampleData.class.getResourceAsStream("sample/" + name);
        if (in == null) {
            throw new DataException("the built-in sample '" + name + "' is missing from the cohx jar; rebuild cohx");
        }
        return in;
    }

    /** Copies the three sample files into {@code dir} (created if needed); returns their paths. */
    public static List<Path> copyTo(Path dir) {
        try {
            Files.createDirectories(dir);
            for (String name : List.of(FEEDBACK_TRAIN, FEEDBACK_TEST, PRETRAIN)) {
                try (InputStream in = open(name)) {
                    Files.copy(in, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
                }
            }
            return List.of(dir.resolve(FEEDBACK_TRAIN), dir.resolve(FEEDBACK_TEST), dir.resolve(PRETRAIN));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot copy the built-in samples to " + dir, e);
        }
    }

    /** The sample feedback set as dialogue inputs for {@link PackJob}, copied into {@code dir}. */
    public static List<InputFile> dialogueInputs(Path dir) {
        var files = copyTo(dir);
        return List.of(new InputFile(files.get(0), Split.TRAIN), new InputFile(files.get(1), Split.EVAL));
    }
}
