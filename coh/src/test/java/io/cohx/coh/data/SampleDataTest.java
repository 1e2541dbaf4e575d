package io.cohx.coh.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The built-in samples are well-formed data of their formats. */
class SampleDataTest {

    @TempDir
    Path tmp;

    @Test
    void sampleFeedbackPacksWithoutProblems() {
        var inputs = Map.of(FeedbackDataset.DIALOGUE, SampleData.dialogueInputs(tmp.resolve("in")));
        var report = new PackJob(new PackJob.Request(List.of(FeedbackDataset.DIALOGUE), inputs,
                PackOptions.defaults().withFeedback("p,n,pn,np"), tmp.resolve("out"), true, null),
                new PrintStream(new ByteArrayOutputStream())).run();
        assertEquals(320, report.get(FeedbackDataset.DIALOGUE, Split.TRAIN).records());
        assertEquals(40, report.get(FeedbackDataset.DIALOGUE, Split.EVAL).records());
        assertEquals(4 * 320, report.get(FeedbackDataset.DIALOGUE, Split.TRAIN).sequences());
    }

    @Test
    void pretrainSampleHasTextLines() {
        var files = SampleData.copyTo(tmp);
        var count = new long[1];
        RecordReader.read(files.get(2), new InputProblems(true, System.err), (record, line) -> {
            assertTrue(record.get("text").isTextual() && record.get("text").textValue().length() > 20);
            count[0]++;
        });
        assertEquals(240, count[0]);
    }
}
