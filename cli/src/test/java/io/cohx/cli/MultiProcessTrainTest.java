package io.cohx.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.cohx.cli.PluginsCommandTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code cohx train} as several processes, each a real child JVM running the CLI with the
 * variables {@code tpu/cohx-tpu launch} sets. The pinned CPU plugin runs one process, so a
 * multi-process run must meet and then stop with a clear message; a process killed during the
 * rendezvous must be named by the others. Bounded waits: nothing here can hang the build.
 */
class MultiProcessTrainTest {
    private static final String LINE = "{\"marker_user\": \"User:\", \"human_0\": \"Hi\", \"marker_gpt\": \"A helpful answer:\","
            + " \"gpt_1\": \"Hello, how can I help?\", \"fields\": \"[marker_user+human_0+marker_gpt],gpt_1,<|eos|>\"}\n";

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static Process cohx(int index, int count, int port, Path dir, Path log) throws IOException {
        Path data = dir.resolve("feedback.jsonl");
        if (!Files.exists(data)) {
            Files.writeString(data, LINE.repeat(8));
        }
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        var pb = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-Xmx512m", "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path"), "io.cohx.cli.Main",
                "train", "--tokenizer", "gpt2", "--train-data", data.toString(), "--total-steps", "1", "--seq-length", "16",
                "--batch-size", "1", "--output-dir", dir.resolve("run").toString(), "--coordinator-timeout", "60")
                .redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("COHX_PROCESS_INDEX", "" + index);
        pb.environment().put("COHX_PROCESS_COUNT", "" + count);
        pb.environment().put("COHX_COORDINATOR_ADDRESS", "127.0.0.1:" + port);
        return pb.start();
    }

    private static void awaitLine(Path log, String text, Duration max) throws Exception {
        long end = System.nanoTime() + max.toNanos();
        while (System.nanoTime() < end) {
            if (Files.exists(log) && Files.readString(log).contains(text)) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no '" + text + "' in " + log + " within " + max + ":\n" + (Files.exists(log) ? Files.readString(log) : ""));
    }

    @Test
    void twoProcessesOnTheCpuPluginMeetThenStopWithAClearMessage(@TempDir Path dir) throws Exception {
        int port = freePort();
        var procs = new ArrayList<Process>();
        try {
            for (int i : new int[] {1, 0}) { // process 1 first: it waits for the coordinator
                procs.add(cohx(i, 2, port, dir, dir.resolve("p" + i + ".log")));
            }
            for (Process p : procs) {
                assertTrue(p.waitFor(60, TimeUnit.SECONDS), "each process stops within 60 s");
            }
            for (int i = 0; i < 2; i++) {
                String log = Files.readString(dir.resolve("p" + i + ".log"));
                assertEquals(2, procs.get(1 - i).exitValue(), log);
                assertTrue(log.contains("process " + i + " of 2: all 2 processes are here"), log);
                assertTrue(log.contains("process " + i + " of 2: multi-process execution needs a GPU or TPU plugin"), log);
                assertTrue(!log.contains("training "), "nobody trains alone: " + log);
            }
        } finally {
            procs.forEach(Process::destroyForcibly);
        }
    }

    @Test
    void aProcessKilledDuringTheRendezvousIsNamedAndTheOtherExits(@TempDir Path dir) throws Exception {
        int port = freePort();
        // Three processes, of which two start: both wait in the rendezvous; then process 1 is killed.
        Process p0 = cohx(0, 3, port, dir, dir.resolve("p0.log"));
        Process p1 = cohx(1, 3, port, dir, dir.resolve("p1.log"));
        try {
            awaitLine(dir.resolve("p0.log"), "process 0 of 3: connected", Duration.ofSeconds(60));
            awaitLine(dir.resolve("p1.log"), "process 1 of 3: connected", Duration.ofSeconds(60));
            p1.destroyForcibly();
            assertTrue(p0.waitFor(60, TimeUnit.SECONDS), "process 0 exits within 60 s of losing process 1");
            String log = Files.readString(dir.resolve("p0.log"));
            // 2 when its own wait in the rendezvous reports it, 3 when the heartbeat does first: either way, not 0.
            assertTrue(p0.exitValue() == 2 || p0.exitValue() == ProcessOptions.PEER_FAILED, p0.exitValue() + ": " + log);
            assertTrue(log.contains("process 1 of 3 disconnected from the coordinator"), log);
        } finally {
            p0.destroyForcibly();
            p1.destroyForcibly();
        }
    }

    @Test
    void badProcessSettingsAreNamed(@TempDir Path dir) throws Exception {
        Path data = Files.writeString(dir.resolve("f.jsonl"), LINE);
        var r = run("train", "--tokenizer", "gpt2", "--train-data", data.toString(), "--process-count", "2", "--process-index", "1",
                "--output-dir", dir.resolve("run").toString());
        assertEquals(2, r.rc(), r.out() + r.err());
        assertTrue(r.err().contains("needs the coordinator's address: set --coordinator-address or COHX_COORDINATOR_ADDRESS"), r.err());
        r = run("train", "--tokenizer", "gpt2", "--train-data", data.toString(), "--process-count", "2", "--process-index", "2",
                "--coordinator-address", "127.0.0.1:1", "--output-dir", dir.resolve("run").toString());
        assertEquals(2, r.rc(), r.out() + r.err());
        assertTrue(r.err().contains("--process-index / COHX_PROCESS_INDEX is 2, outside 0..1"), r.err());
    }
}
