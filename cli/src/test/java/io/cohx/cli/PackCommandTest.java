package io.cohx.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code cohx pack} from the command line: flags reach the packer, errors name the flag. */
class PackCommandTest {

    @TempDir
    Path tmp;

    private record Run(int code, String out, String err) {
    }

    private static Run run(String... args) {
        var out = new ByteArrayOutputStream();
        var err = new ByteArrayOutputStream();
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            int code = Main.commandLine(args).execute(args);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @Test
    void packsLocalDialogueWithCustomMarkers() throws IOException {
        Path data = Files.createDirectories(tmp.resolve("hh"));
        String rec = "{\"chosen\": \"\\n\\nHuman: hi\\n\\nAssistant: hello there\", "
                + "\"rejected\": \"\\n\\nHuman: hi\\n\\nAssistant: go away\"}";
        Files.write(data.resolve("train.jsonl"), List.of(rec, rec, rec));
        Files.write(data.resolve("test.jsonl"), List.of(rec));
        Path out = tmp.resolve("out");
        var r = run("pack", "--dataset", "dialogue", "--input", "dialogue=" + data, "--include-feedback", "p,n",
                "--output-dir", out.toString(), "--gpt-marker", "Good:", "--user-marker", "Q:", "--offline");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("dialogue train"), r.out());
        var lines = Files.readAllLines(out.resolve("hh_dialogue_train_p,n.jsonl"));
        assertEquals(6, lines.size());
        assertEquals("{\"marker_user\": \"Q:\", \"marker_gpt\": \"Good:\", \"marker_gpt_bad\": \"An unhelpful answer:\", "
                + "\"human_0\": \"hi\", \"gpt_1\": \"hello there\", \"fields\": \"[marker_user+human_0+marker_gpt],gpt_1,<|eos|>\"}",
                lines.getFirst());
        assertEquals(2, Files.readAllLines(out.resolve("eval_p,n_shuffled.jsonl")).size());
    }

    @Test
    void badFlagsAreNamed() {
        var r = run("pack", "--dataset", "dialog", "--offline");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("--dataset: unknown dataset 'dialog'"), r.err());
        r = run("pack", "--dataset", "dialogue", "--offline", "--output-dir", tmp.toString());
        assertEquals(1, r.code());
        assertTrue(r.err().contains("no --input for dialogue and --offline is set"), r.err());
        r = run("pack", "--input", "dialogue", "--offline");
        assertTrue(r.err().contains("--input 'dialogue': expected NAME=PATH"), r.err());
    }
}
