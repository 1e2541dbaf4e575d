package io.cohx.coh.data;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * A pack that never finishes, for {@link OutputFilesTest}: opens the output files in the folder
 * given, writes a line, says "ready" and waits to be killed.
 */
final class OutputFilesChild {

    private OutputFilesChild() {
    }

    public static void main(String[] args) throws Exception {
        var files = new OutputFiles(Path.of(args[0]));
        byte[] line = "{\"a\": \"b\"}\n".getBytes(StandardCharsets.UTF_8);
        files.lines("train.jsonl", false).writeLines(ByteBuffer.wrap(line), new int[] {line.length}, 1);
        System.out.println("ready");
        System.out.flush();
        Thread.sleep(600_000);
        files.close();
    }
}
