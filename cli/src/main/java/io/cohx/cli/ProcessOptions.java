package io.cohx.cli;

import io.cohx.engine.dist.Coordination;
import io.cohx.engine.dist.ProcessGroup;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;

/**
 * The multi-process flags of {@code cohx train}, mirroring the variables {@code tpu/cohx-tpu
 * launch} sets on every worker, and joining the run they describe.
 */
public final class ProcessOptions {
    /** Exit status of a process whose run failed elsewhere (a peer died or hung, the coordinator went away). */
    static final int PEER_FAILED = 3;

    @Option(names = "--process-index", paramLabel = "I", description = "This process's index, 0 .. count-1 (default: $COHX_PROCESS_INDEX, else 0).")
    Integer index;
    @Option(names = "--process-count", paramLabel = "N", description = "Processes in the run, one per host (default: $COHX_PROCESS_COUNT, else 1).")
    Integer count;
    @Option(names = "--coordinator-address", paramLabel = "HOST:PORT",
            description = "Process 0's address, where it serves the coordinator (default: $COHX_COORDINATOR_ADDRESS).")
    String address;
    @Option(names = "--coordinator-timeout", defaultValue = "300", paramLabel = "SECONDS",
            description = "How long processes wait for each other to start (default: ${DEFAULT-VALUE}).")
    long timeoutSeconds;
    @Option(names = "--log-all-workers", description = "Processes other than 0 also print progress (to their own output); by default"
            + " they write it to OUTPUT_DIR/logs/process-I.log.")
    boolean logAllWorkers;

    ProcessGroup group() {
        return ProcessGroup.resolve(index, count, address, System.getenv());
    }

    Duration timeout() {
        return Duration.ofSeconds(timeoutSeconds);
    }

    /**
     * Joins the run and waits until every process has (the rendezvous). A failure found later
     * (a peer died or stopped answering) prints its message and ends this process at once with
     * {@link #PEER_FAILED}: a program blocked in a collective with a dead peer never returns, so
     * waiting for a clean shutdown could hang forever. Process 0 first lingers two heartbeats so
     * the others can read the cause from it.
     */
    static Coordination join(ProcessGroup group, Duration timeout, PrintStream err) {
        var timeouts = Coordination.Timeouts.DEFAULT.withConnect(timeout);
        err.println("cohx: " + group.describe() + ": joining the run (coordinator " + group.host() + ":" + group.port() + ")");
        Coordination[] self = new Coordination[1];
        Coordination c = Coordination.join(group, timeouts, message -> {
            err.println("cohx: " + group.describe() + " stops: " + message);
            err.flush();
            if (self[0] != null && self[0].hostsCoordinator()) {
                try {
                    Thread.sleep(timeouts.heartbeatInterval().multipliedBy(2));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            Runtime.getRuntime().halt(PEER_FAILED);
        });
        self[0] = c;
        err.println("cohx: " + group.describe() + ": connected; waiting for the other processes");
        try {
            c.sync("rendezvous", timeout);
        } catch (RuntimeException e) {
            c.close();
            throw e;
        }
        err.println("cohx: " + group.describe() + ": all " + group.count() + " processes are here");
        return c;
    }

    /**
     * Where this process prints progress: process 0 (or every process with --log-all-workers) to
     * {@code out}; the others to {@code OUTPUT_DIR/logs/process-I.log}, appended.
     */
    PrintStream output(ProcessGroup group, Path outputDir, PrintStream out) {
        if (group.isCoordinator() || logAllWorkers) {
            return out;
        }
        Path log = outputDir.resolve("logs").resolve("process-" + group.index() + ".log");
        try {
            Files.createDirectories(log.getParent());
            return new PrintStream(Files.newOutputStream(log, StandardOpenOption.CREATE, StandardOpenOption.APPEND), true, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new CohxUserError("cannot write this process's log " + log + ": " + e.getMessage());
        }
    }
}
