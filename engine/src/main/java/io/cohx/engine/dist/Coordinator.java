package io.cohx.engine.dist;

import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The coordination service process 0 runs for a multi-process job: a key-value store (for the
 * PJRT plugin and for cohx), named barriers, and liveness. Each process holds one session
 * connection and heartbeats on it; a session that closes without saying goodbye (the process
 * died) or stays silent past the heartbeat timeout (hung, stopped, cut off) marks the run
 * failed, with a message naming the process. From then on every waiting and every later request
 * fails with that message, and each heartbeat answer carries it, so every process learns within
 * one heartbeat interval and nobody waits forever.
 *
 * <p>It listens on every interface at the coordinator address's port (as JAX's service does); a
 * connection thread per client (virtual threads), state under one lock.
 */
public final class Coordinator implements AutoCloseable {
    private final ServerSocket server;
    private final int count;
    private final Duration heartbeatTimeout;
    private final ExecutorService connections = Executors.newVirtualThreadPerTaskExecutor();
    private final Thread acceptor;
    private final Thread watchdog;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final Map<String, byte[]> values = new HashMap<>();
    private final Map<String, TreeSet<Integer>> arrived = new HashMap<>();
    /** Waiters already let through a completed barrier; at {@code count} the barrier is forgotten (a run holds one per step). */
    private final Map<String, Integer> released = new HashMap<>();
    private final long[] lastHeartbeat;
    private final State[] state;
    private String failure;
    private volatile boolean closed;

    private enum State { NEVER_CONNECTED, CONNECTED, LEFT }

    private Coordinator(ServerSocket server, int count, Duration heartbeatTimeout) {
        this.server = server;
        this.count = count;
        this.heartbeatTimeout = heartbeatTimeout;
        this.lastHeartbeat = new long[count];
        this.state = new State[count];
        Arrays.fill(state, State.NEVER_CONNECTED);
        this.acceptor = Thread.ofPlatform().daemon().name("cohx-coordinator-accept").start(this::acceptLoop);
        this.watchdog = Thread.ofPlatform().daemon().name("cohx-coordinator-watchdog").start(this::watch);
    }

    /** Starts serving {@code count} processes on {@code port} (0: any free port, see {@link #port()}). */
    public static Coordinator start(int port, int count, Duration heartbeatTimeout) {
        try {
            ServerSocket s = new ServerSocket();
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(port), 128);
            return new Coordinator(s, count, heartbeatTimeout);
        } catch (IOException e) {
            throw new CoordinationException("process 0 cannot serve the coordinator on port " + port + ": " + e.getMessage()
                    + ". Another program (or an earlier cohx run still alive) may hold the port; stop it or choose another port"
                    + " in the coordinator address.", e);
        }
    }

    public int port() {
        return server.getLocalPort();
    }

    /** Barriers still held in memory (tests: completed ones are forgotten). */
    int barriersHeld() {
        lock.lock();
        try {
            return arrived.size();
        } finally {
            lock.unlock();
        }
    }

    /** The failure that ended the run, or null. */
    public String failure() {
        lock.lock();
        try {
            return failure;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits until every process has said goodbye (or {@code grace} passes), so that closing the
     * service at the end of a run does not look like a lost coordinator to a peer still leaving.
     */
    public void awaitAllLeft(Duration grace) {
        long deadline = System.nanoTime() + grace.toNanos();
        lock.lock();
        try {
            while (Arrays.stream(state).anyMatch(s -> s == State.CONNECTED) && failure == null) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return;
                }
                changed.awaitNanos(left);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException e) {
            // already closed
        }
        acceptor.interrupt();
        watchdog.interrupt();
        connections.shutdownNow();
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                Socket s = server.accept();
                connections.submit(() -> serve(s));
            } catch (IOException e) {
                if (closed) {
                    return;
                }
            }
        }
    }

    private void watch() {
        long limit = heartbeatTimeout.toNanos();
        while (!closed) {
            try {
                Thread.sleep(Math.max(50, heartbeatTimeout.toMillis() / 10));
            } catch (InterruptedException e) {
                return;
            }
            lock.lock();
            try {
                long now = System.nanoTime();
                for (int i = 0; i < count; i++) {
                    if (state[i] == State.CONNECTED && now - lastHeartbeat[i] > limit) {
                        fail("process " + i + " of " + count + " sent no heartbeat for " + heartbeatTimeout.toSeconds()
                                + " s (it hangs, was stopped, or its network is cut off)");
                    }
                }
            } finally {
                lock.unlock();
            }
        }
    }

    /** Records the first failure and wakes every waiter. Call with the lock held. */
    private void fail(String message) {
        if (failure == null) {
            failure = message;
        }
        changed.signalAll();
    }

    private void serve(Socket socket) {
        Wire w;
        try {
            w = new Wire(socket);
            if (w.in.readInt() != Wire.MAGIC) {
                w.close();
                return;
            }
            int version = w.in.readInt();
            if (version != Wire.VERSION) {
                w.reply(Wire.FAILED, "coordinator protocol version " + version + " is not this coordinator's " + Wire.VERSION
                        + "; run the same cohx version on every process");
                w.close();
                return;
            }
        } catch (IOException e) {
            return;
        }
        try {
            byte op = w.in.readByte();
            switch (op) {
                case Wire.HELLO -> session(w);
                case Wire.PUT -> put(w);
                case Wire.GET -> get(w);
                case Wire.TRY_GET -> tryGet(w);
                case Wire.BARRIER -> barrier(w);
                default -> w.reply(Wire.FAILED, "unknown request " + op);
            }
        } catch (IOException e) {
            // the peer went away mid-request; sessions report that themselves
        } finally {
            w.close();
        }
    }

    private void session(Wire w) throws IOException {
        int index = w.in.readInt();
        int theirCount = w.in.readInt();
        lock.lock();
        try {
            String refusal = theirCount != count ? "process " + index + " says the run has " + theirCount + " processes, but process 0 says "
                    + count + "; give every process the same COHX_PROCESS_COUNT"
                    : index < 0 || index >= count ? "process index " + index + " is outside 0.." + (count - 1)
                    : state[index] != State.NEVER_CONNECTED ? "process " + index + " connected twice; give each process its own COHX_PROCESS_INDEX"
                    : failure;
            if (refusal != null) {
                if (failure == null && theirCount == count && index >= 0 && index < count) {
                    fail(refusal);
                }
                w.reply(Wire.FAILED, refusal);
                return;
            }
            state[index] = State.CONNECTED;
            lastHeartbeat[index] = System.nanoTime();
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        w.reply(Wire.OK, "");
        try {
            while (true) {
                byte op = w.in.readByte();
                lock.lock();
                String f;
                try {
                    lastHeartbeat[index] = System.nanoTime();
                    if (op == Wire.GOODBYE) {
                        state[index] = State.LEFT;
                        changed.signalAll();
                    }
                    f = failure;
                } finally {
                    lock.unlock();
                }
                if (op == Wire.GOODBYE) {
                    w.reply(Wire.OK, "");
                    return;
                }
                w.reply(f == null ? Wire.OK : Wire.FAILED, f == null ? "" : f);
            }
        } catch (EOFException | SocketException e) {
            lock.lock();
            try {
                if (state[index] == State.CONNECTED) {
                    state[index] = State.LEFT;
                    fail("process " + index + " of " + count + " disconnected from the coordinator without finishing (it exited, was killed,"
                            + " or its host went down); see its log");
                }
            } finally {
                lock.unlock();
            }
        }
    }

    private void put(Wire w) throws IOException {
        String key = w.readString();
        byte[] value = w.readBytes();
        lock.lock();
        try {
            values.put(key, value);
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        w.reply(Wire.OK, "");
    }

    private void tryGet(Wire w) throws IOException {
        String key = w.readString();
        byte[] v;
        lock.lock();
        try {
            v = values.get(key);
        } finally {
            lock.unlock();
        }
        if (v == null) {
            w.reply(Wire.NOT_FOUND, "no value for '" + key + "'");
        } else {
            w.replyOk(v);
        }
    }

    private void get(Wire w) throws IOException {
        String key = w.readString();
        long timeoutMs = w.in.readLong();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        byte[] v;
        String f;
        lock.lock();
        try {
            while ((v = values.get(key)) == null && failure == null) {
                long left = deadline - System.nanoTime();
                if (left <= 0 || closed) {
                    break;
                }
                changed.awaitNanos(left);
            }
            f = failure;
        } catch (InterruptedException e) {
            return;
        } finally {
            lock.unlock();
        }
        if (v != null) {
            w.replyOk(v);
        } else if (f != null) {
            w.reply(Wire.FAILED, f);
        } else {
            w.reply(Wire.TIMEOUT, "no process put '" + key + "' within " + timeoutMs + " ms");
        }
    }

    private void barrier(Wire w) throws IOException {
        String name = w.readString();
        int index = w.in.readInt();
        long timeoutMs = w.in.readLong();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        String outcome = null;
        lock.lock();
        try {
            TreeSet<Integer> at = arrived.computeIfAbsent(name, k -> new TreeSet<>());
            at.add(index);
            changed.signalAll();
            while (at.size() < count) {
                if (failure != null) {
                    outcome = failure;
                    break;
                }
                List<Integer> gone = missing(at, State.LEFT);
                if (!gone.isEmpty()) {
                    outcome = "process " + join(gone) + " of " + count + " left the run before reaching '" + name + "'";
                    fail(outcome);
                    break;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0 || closed) {
                    List<Integer> never = missing(at, State.NEVER_CONNECTED);
                    outcome = "'" + name + "' timed out after " + Duration.ofMillis(timeoutMs).toSeconds() + " s: process "
                            + join(missing(at, null)) + " of " + count + " did not arrive"
                            + (never.isEmpty() ? "" : " (process " + join(never) + " never connected to the coordinator: not started,"
                            + " a wrong COHX_COORDINATOR_ADDRESS, or a firewall)");
                    fail(outcome);
                    break;
                }
                changed.awaitNanos(left);
            }
            if (outcome == null && released.merge(name, 1, Integer::sum) == count) {
                arrived.remove(name);
                released.remove(name);
            }
        } catch (InterruptedException e) {
            return;
        } finally {
            lock.unlock();
        }
        if (outcome == null) {
            w.reply(Wire.OK, "");
        } else {
            w.reply(Wire.FAILED, outcome);
        }
    }

    /** Processes not in {@code at} (and in {@code only} state, unless null). Lock held. */
    private List<Integer> missing(TreeSet<Integer> at, State only) {
        var out = new ArrayList<Integer>();
        for (int i = 0; i < count; i++) {
            if (!at.contains(i) && (only == null || state[i] == only)) {
                out.add(i);
            }
        }
        return out;
    }

    private static String join(List<Integer> xs) {
        var sb = new StringBuilder();
        for (int i = 0; i < xs.size(); i++) {
            sb.append(i == 0 ? "" : i == xs.size() - 1 ? " and " : ", ").append(xs.get(i));
        }
        return sb.toString();
    }
}
