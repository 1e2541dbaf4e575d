package io.cohx.engine.dist;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The coordination service with real TCP on 127.0.0.1: in one JVM, and across child JVMs (one killed, one stopped). */
class CoordinationTest {
    private static final Coordination.Timeouts FAST = new Coordination.Timeouts(Duration.ofSeconds(10), Duration.ofMillis(200), Duration.ofSeconds(2));

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Test
    void storeSemanticsAndBarrierBetweenTwoMembers() throws Exception {
        int port = freePort();
        var failures = new ArrayList<String>();
        try (Coordination p0 = Coordination.join(new ProcessGroup(0, 2, "127.0.0.1", port), FAST, failures::add);
             Coordination p1 = Coordination.join(new ProcessGroup(1, 2, "127.0.0.1", port), FAST, failures::add)) {
            assertTrue(p1.tryGet("k").isEmpty(), "absent key: try-get says so at once");
            long t0 = System.nanoTime();
            assertThrows(TimeoutException.class, () -> p1.get("k", Duration.ofMillis(300)));
            assertTrue(System.nanoTime() - t0 >= 250_000_000L, "get waits for its timeout");
            // A get blocks until another process puts the key.
            CompletableFuture<byte[]> waiting = CompletableFuture.supplyAsync(() -> {
                try {
                    return p1.get("k", Duration.ofSeconds(5));
                } catch (TimeoutException e) {
                    throw new RuntimeException(e);
                }
            });
            Thread.sleep(200);
            assertFalse(waiting.isDone());
            byte[] value = {0, 1, 2, (byte) 255};
            p0.put("k", value);
            assertArrayEquals(value, waiting.get(5, TimeUnit.SECONDS));
            assertArrayEquals(value, p0.tryGet("k").orElseThrow());
            p1.put("k", new byte[0]);
            assertArrayEquals(new byte[0], p0.get("k", Duration.ofSeconds(1)), "a later put replaces the value");

            CompletableFuture<Void> b0 = CompletableFuture.runAsync(() -> p0.barrier("b", Duration.ofSeconds(5)));
            Thread.sleep(200);
            assertFalse(b0.isDone(), "a barrier waits for every process");
            p1.barrier("b", Duration.ofSeconds(5));
            b0.get(5, TimeUnit.SECONDS);
            // A vote: the same answer everywhere, yes if anyone says yes.
            CompletableFuture<Boolean> v0 = CompletableFuture.supplyAsync(() -> p0.anyOf("stop", false, Duration.ofSeconds(5)));
            assertTrue(p1.anyOf("stop", true, Duration.ofSeconds(5)));
            assertTrue(v0.get(5, TimeUnit.SECONDS), "process 0 learns process 1's yes");
            CompletableFuture<Boolean> v1 = CompletableFuture.supplyAsync(() -> p1.anyOf("stop", false, Duration.ofSeconds(5)));
            assertFalse(p0.anyOf("stop", false, Duration.ofSeconds(5)));
            assertFalse(v1.get(5, TimeUnit.SECONDS));
            assertEquals(0, p0.server().barriersHeld(), "completed barriers are forgotten (a run makes one per step)");
            Thread.sleep(500); // a few heartbeats
            CompletableFuture<Void> f1 = CompletableFuture.runAsync(() -> p1.finish(Duration.ofSeconds(5)));
            p0.finish(Duration.ofSeconds(5));
            f1.get(5, TimeUnit.SECONDS);
        }
        assertEquals(List.of(), failures, "a finished run is no failure");
    }

    @Test
    void aProcessThatClosesWithoutFinishingFailsTheRun() throws Exception {
        int port = freePort();
        AtomicReference<String> failure = new AtomicReference<>();
        try (Coordination p0 = Coordination.join(new ProcessGroup(0, 2, "127.0.0.1", port), FAST, failure::set)) {
            Coordination p1 = Coordination.join(new ProcessGroup(1, 2, "127.0.0.1", port), FAST, m -> {});
            CompletableFuture<Void> waiting = CompletableFuture.runAsync(() -> p0.barrier("step", Duration.ofSeconds(30)));
            p1.close(); // as when its training threw: the others must not wait for it
            var e = assertThrows(java.util.concurrent.ExecutionException.class, () -> waiting.get(10, TimeUnit.SECONDS));
            assertTrue(e.getCause().getMessage().contains("process 1 of 2 disconnected from the coordinator without finishing"),
                    e.getCause().getMessage());
            long end = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (failure.get() == null && System.nanoTime() < end) {
                Thread.sleep(50);
            }
            assertTrue(String.valueOf(failure.get()).contains("process 1 of 2"), "the heartbeat reports it too: " + failure.get());
        }
    }

    @Test
    void aProcessThatNeverConnectsIsNamedWhenTheBarrierTimesOut() throws Exception {
        try (Coordination p0 = Coordination.join(new ProcessGroup(0, 3, "127.0.0.1", freePort()), FAST, m -> {})) {
            var e = assertThrows(CoordinationException.class, () -> p0.barrier("rendezvous", Duration.ofMillis(500)));
            assertTrue(e.getMessage().contains("process 1 and 2 of 3 did not arrive"), e.getMessage());
            assertTrue(e.getMessage().contains("never connected"), e.getMessage());
        }
    }

    @Test
    void noCoordinatorMeansAClearErrorAfterTheConnectTimeout() throws Exception {
        int port = freePort();
        var e = assertThrows(CoordinationException.class, () -> Coordination.join(new ProcessGroup(1, 2, "127.0.0.1", port),
                FAST.withConnect(Duration.ofMillis(700)), m -> {}));
        assertTrue(e.getMessage().contains("could not reach the coordinator (process 0) at 127.0.0.1:" + port), e.getMessage());
    }

    @Test
    void aSecondProcessWithTheSameIndexIsRefused() throws Exception {
        int port = freePort();
        try (Coordination p0 = Coordination.join(new ProcessGroup(0, 2, "127.0.0.1", port), FAST, m -> {})) {
            var e = assertThrows(CoordinationException.class, () -> Coordination.join(new ProcessGroup(0, 2, "127.0.0.1", port), FAST, m -> {}));
            assertTrue(e.getMessage().contains("port " + port), "a second process 0 cannot serve: " + e.getMessage());
            var e2 = assertThrows(CoordinationException.class, () -> Coordination.join(new ProcessGroup(1, 3, "127.0.0.1", port), FAST, m -> {}));
            assertTrue(e2.getMessage().contains("says the run has 3 processes, but process 0 says 2"), e2.getMessage());
        }
    }

    @Test
    void processGroupComesFromFlagsOverTheEnvironment() {
        assertEquals(ProcessGroup.SINGLE, ProcessGroup.resolve(null, null, null, Map.of()));
        var env = Map.of("COHX_PROCESS_INDEX", "1", "COHX_PROCESS_COUNT", "4", "COHX_COORDINATOR_ADDRESS", "10.0.0.2:8476");
        assertEquals(new ProcessGroup(1, 4, "10.0.0.2", 8476), ProcessGroup.resolve(null, null, null, env));
        assertEquals(new ProcessGroup(3, 4, "::1", 9000), ProcessGroup.resolve(3, null, "[::1]:9000", env));
        var e = assertThrows(CoordinationException.class, () -> ProcessGroup.resolve(null, 2, null, Map.of()));
        assertTrue(e.getMessage().contains("COHX_COORDINATOR_ADDRESS"), e.getMessage());
        e = assertThrows(CoordinationException.class, () -> ProcessGroup.resolve(2, 2, "h:1", Map.of()));
        assertTrue(e.getMessage().contains("--process-index / COHX_PROCESS_INDEX is 2, outside 0..1"), e.getMessage());
        e = assertThrows(CoordinationException.class, () -> ProcessGroup.resolve(null, null, null, Map.of("COHX_PROCESS_COUNT", "two")));
        assertTrue(e.getMessage().contains("COHX_PROCESS_COUNT='two' is not an integer"), e.getMessage());
        e = assertThrows(CoordinationException.class, () -> ProcessGroup.resolve(0, 2, "10.0.0.2", Map.of()));
        assertTrue(e.getMessage().contains("is not HOST:PORT"), e.getMessage());
    }

    // ------------------------------------------------------------ child JVMs

    static Process child(int index, int count, int port, String mode, Path log) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        return new ProcessBuilder(java, "-Xmx64m", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
                CoordinationChild.class.getName(), "" + index, "" + count, "" + port, mode)
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    static void awaitLine(Path log, String text, Duration max) throws Exception {
        long end = System.nanoTime() + max.toNanos();
        while (System.nanoTime() < end) {
            if (Files.exists(log) && Files.readString(log).contains(text)) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no '" + text + "' in " + log + " within " + max + ":\n" + (Files.exists(log) ? Files.readString(log) : ""));
    }

    @Test
    void threeChildProcessesRendezvousExchangeAndFinish(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        int port = freePort();
        var procs = new ArrayList<Process>();
        try {
            // Process 2 and 1 start first: they retry until process 0 serves.
            for (int i : new int[] {2, 1, 0}) {
                procs.add(child(i, 3, port, "exchange", dir.resolve("p" + i + ".log")));
            }
            for (int i = 0; i < 3; i++) {
                Process p = procs.get(2 - i);
                assertTrue(p.waitFor(60, TimeUnit.SECONDS), "process " + i + " finishes");
                String log = Files.readString(dir.resolve("p" + i + ".log"));
                assertEquals(0, p.exitValue(), log);
                assertTrue(log.contains("VALUES hello_from_0 hello_from_1 hello_from_2"), log);
                assertTrue(log.contains("DONE " + i), log);
            }
        } finally {
            procs.forEach(Process::destroyForcibly);
        }
    }

    @Test
    void aKilledProcessIsNamedByTheOthers(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        int port = freePort();
        // Three processes of which two start: both wait in the rendezvous; then process 1 is killed.
        Process p0 = child(0, 3, port, "wait", dir.resolve("p0.log"));
        Process p1 = child(1, 3, port, "wait", dir.resolve("p1.log"));
        try {
            awaitLine(dir.resolve("p0.log"), "JOINED 0", Duration.ofSeconds(30));
            awaitLine(dir.resolve("p1.log"), "JOINED 1", Duration.ofSeconds(30));
            p1.destroyForcibly();
            assertTrue(p0.waitFor(20, TimeUnit.SECONDS), "process 0 exits once process 1 is gone");
            String log = Files.readString(dir.resolve("p0.log"));
            assertTrue(p0.exitValue() != 0, log);
            assertTrue(log.contains("process 1 of 3 disconnected from the coordinator"), log);
        } finally {
            p0.destroyForcibly();
            p1.destroyForcibly();
        }
    }

    @Test
    void losingProcessZeroStopsTheOthers(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        int port = freePort();
        Process p0 = child(0, 3, port, "wait", dir.resolve("p0.log"));
        Process p1 = child(1, 3, port, "wait", dir.resolve("p1.log"));
        try {
            awaitLine(dir.resolve("p1.log"), "JOINED 1", Duration.ofSeconds(30));
            p0.destroyForcibly();
            assertTrue(p1.waitFor(20, TimeUnit.SECONDS), "process 1 exits once the coordinator is gone");
            String log = Files.readString(dir.resolve("p1.log"));
            assertTrue(p1.exitValue() != 0, log);
            assertTrue(log.contains("process 0"), log);
        } finally {
            p0.destroyForcibly();
            p1.destroyForcibly();
        }
    }

    @Test
    void aStoppedProcessIsNamedAfterTheHeartbeatTimeout(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        int port = freePort();
        AtomicReference<String> failure = new AtomicReference<>();
        Process p1 = child(1, 2, port, "wait", dir.resolve("p1.log"));
        try (Coordination p0 = Coordination.join(new ProcessGroup(0, 2, "127.0.0.1", port), FAST, failure::set)) {
            awaitLine(dir.resolve("p1.log"), "JOINED 1", Duration.ofSeconds(30));
            // SIGSTOP: the process lives, its socket stays open, but it says nothing.
            assertEquals(0, new ProcessBuilder("kill", "-STOP", "" + p1.pid()).start().waitFor());
            long end = System.nanoTime() + Duration.ofSeconds(15).toNanos();
            while (failure.get() == null && System.nanoTime() < end) {
                Thread.sleep(50);
            }
            assertTrue(failure.get() != null && failure.get().contains("process 1 of 2 sent no heartbeat for 2 s"), String.valueOf(failure.get()));
        } finally {
            p1.destroyForcibly();
        }
    }
}
