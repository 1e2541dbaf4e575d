package io.cohx.engine.dist;

import io.cohx.pjrt.KeyValueStore;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * This process's membership in a multi-process run: process 0 starts the {@link Coordinator};
 * every process (0 included, over loopback) connects to it, retrying until
 * {@link Timeouts#connect}, and keeps a session that heartbeats every
 * {@link Timeouts#heartbeatInterval}. When the run fails (a peer died or hung, the coordinator
 * went away) {@code onFailure} is called once, from the heartbeat thread, with a message that
 * names the process; it is the caller's decision what to do (the CLI prints it and exits
 * non-zero at once, since a program blocked in a collective would never return).
 *
 * <p>It is also the {@link KeyValueStore} the PJRT client gets. Thread-safe.
 */
public final class Coordination implements KeyValueStore, AutoCloseable {
    /** How long to wait for peers, and how liveness is checked. */
    public record Timeouts(Duration connect, Duration heartbeatInterval, Duration heartbeatTimeout) {
        /** 5 minutes to gather (JAX's default too: hosts of a slice start minutes apart), 1 s heartbeats, 30 s of silence is death. */
        public static final Timeouts DEFAULT = new Timeouts(Duration.ofMinutes(5), Duration.ofSeconds(1), Duration.ofSeconds(30));

        public Timeouts withConnect(Duration d) {
            return new Timeouts(d, heartbeatInterval, heartbeatTimeout);
        }
    }

    private final ProcessGroup group;
    private final Timeouts timeouts;
    private final Coordinator server;
    private final Wire session;
    private final Consumer<String> onFailure;
    private final AtomicBoolean failed = new AtomicBoolean();
    private final AtomicBoolean leaving = new AtomicBoolean();
    private final Thread heartbeat;
    private final AtomicLong syncs = new AtomicLong();

    private Coordination(ProcessGroup group, Timeouts timeouts, Coordinator server, Wire session, Consumer<String> onFailure) {
        this.group = group;
        this.timeouts = timeouts;
        this.server = server;
        this.session = session;
        this.onFailure = onFailure;
        this.heartbeat = Thread.ofPlatform().daemon().name("cohx-heartbeat").start(this::beat);
    }

    /**
     * Joins the run {@code group} describes (process 0 first starts the coordinator). Returns once
     * this process's session is open; {@link #barrier} then waits for the others.
     */
    public static Coordination join(ProcessGroup group, Timeouts timeouts, Consumer<String> onFailure) {
        if (!group.multiProcess()) {
            throw new IllegalArgumentException("a single process needs no coordination");
        }
        Coordinator server = group.isCoordinator() ? Coordinator.start(group.port(), group.count(), timeouts.heartbeatTimeout()) : null;
        try {
            String host = server != null ? "127.0.0.1" : group.host();
            int port = server != null ? server.port() : group.port();
            Wire w = open(host, port, timeouts.connect(), group);
            w.out.writeByte(Wire.HELLO);
            w.out.writeInt(group.index());
            w.out.writeInt(group.count());
            w.out.flush();
            w.socket.setSoTimeout((int) Math.max(1000, timeouts.heartbeatTimeout().toMillis()));
            byte status = w.in.readByte();
            String msg = w.readString();
            if (status != Wire.OK) {
                w.close();
                throw new CoordinationException(group.describe() + ": the coordinator refused to let it join: " + msg);
            }
            return new Coordination(group, timeouts, server, w, onFailure);
        } catch (IOException e) {
            if (server != null) {
                server.close();
            }
            throw new CoordinationException(group.describe() + ": lost the coordinator at " + group.host() + ":" + group.port()
                    + " while joining: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            if (server != null) {
                server.close();
            }
            throw e;
        }
    }

    /** A connection to the coordinator, retried (backing off up to 2 s) until {@code patience} passes. */
    private static Wire open(String host, int port, Duration patience, ProcessGroup group) throws IOException {
        long deadline = System.nanoTime() + patience.toNanos();
        long pause = 100;
        IOException last;
        while (true) {
            Socket s = new Socket();
            try {
                s.connect(new InetSocketAddress(host, port), (int) Math.min(10_000, Math.max(1, patience.toMillis())));
                Wire w = new Wire(s);
                w.out.writeInt(Wire.MAGIC);
                w.out.writeInt(Wire.VERSION);
                return w;
            } catch (IOException e) {
                s.close();
                last = e;
            }
            if (System.nanoTime() + pause * 1_000_000 > deadline) {
                throw new CoordinationException(group.describe() + " could not reach the coordinator (process 0) at " + host + ":" + port
                        + " within " + patience.toSeconds() + " s: " + last.getMessage() + ". Is process 0 running, is "
                        + ProcessGroup.ADDRESS_ENV + " its address on a network this host reaches, and is the port open?", last);
            }
            try {
                Thread.sleep(pause);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                throw new CoordinationException(group.describe() + ": interrupted while connecting to the coordinator");
            }
            pause = Math.min(2000, pause * 2);
        }
    }

    public ProcessGroup group() {
        return group;
    }

    private void beat() {
        while (!leaving.get()) {
            try {
                Thread.sleep(timeouts.heartbeatInterval());
            } catch (InterruptedException e) {
                return;
            }
            String problem;
            synchronized (session) {
                if (leaving.get()) {
                    return;
                }
                try {
                    session.out.writeByte(Wire.HEARTBEAT);
                    session.out.flush();
                    byte status = session.in.readByte();
                    String msg = session.readString();
                    problem = status == Wire.OK ? null : msg;
                } catch (IOException e) {
                    if (leaving.get()) {
                        return;
                    }
                    problem = "lost the coordinator (process 0 at " + group.host() + ":" + group.port() + "): " + e.getMessage()
                            + "; process 0 exited, was killed, hangs, or its host went down; see its log";
                }
            }
            if (problem != null) {
                failed(problem);
                return;
            }
        }
    }

    private void failed(String message) {
        if (failed.compareAndSet(false, true)) {
            onFailure.accept(message);
        }
    }

    /** The coordinator this process serves (process 0), else null. */
    Coordinator server() {
        return server;
    }

    /** Whether this process hosts the coordinator (peers learn of a failure from it, so it should outlive them briefly). */
    public boolean hostsCoordinator() {
        return server != null;
    }

    /**
     * Waits until every process has called {@code barrier(name)}, at most {@code timeout}. Fails
     * (naming them) if a process died, left, or did not arrive in time.
     */
    public void barrier(String name, Duration timeout) {
        request(Wire.BARRIER, timeout, w -> {
            w.writeString(name);
            w.out.writeInt(group.index());
            w.out.writeLong(timeout.toMillis());
        });
    }

    /**
     * A barrier at a point every process reaches in the same order (a checkpoint's steps, the end
     * of the rendezvous): {@code what} names it in errors, a per-process count makes each unique.
     */
    public void sync(String what, Duration timeout) {
        barrier(what + " #" + syncs.incrementAndGet(), timeout);
    }

    /**
     * Whether any process votes yes at this point, the same answer on every process: the yes
     * votes are put before a barrier and read after it. A training loop asks it once per step
     * ("did anyone get SIGTERM?") so that every process stops after the same step; two round
     * trips to the coordinator.
     */
    public boolean anyOf(String what, boolean vote, Duration timeout) {
        String key = what + " #" + syncs.incrementAndGet();
        if (vote) {
            put(key, new byte[] {1});
        }
        barrier(key, timeout);
        return vote || tryGet(key).isPresent();
    }

    @Override
    public void put(String key, byte[] value) {
        request(Wire.PUT, Duration.ZERO, w -> {
            w.writeString(key);
            w.writeBytes(value);
        });
    }

    @Override
    public byte[] get(String key, Duration timeout) throws TimeoutException {
        Reply r = request(Wire.GET, timeout, w -> {
            w.writeString(key);
            w.out.writeLong(timeout.toMillis());
        });
        if (r.status == Wire.TIMEOUT) {
            throw new TimeoutException(r.message);
        }
        return r.payload;
    }

    @Override
    public Optional<byte[]> tryGet(String key) {
        Reply r = request(Wire.TRY_GET, Duration.ZERO, w -> w.writeString(key));
        return r.status == Wire.NOT_FOUND ? Optional.empty() : Optional.of(r.payload);
    }

    /** This store seen through a key prefix, so the plugin's keys never meet cohx's own. */
    public KeyValueStore prefixed(String prefix) {
        Coordination self = this;
        return new KeyValueStore() {
            @Override
            public byte[] get(String key, Duration timeout) throws TimeoutException {
                return self.get(prefix + key, timeout);
            }

            @Override
            public Optional<byte[]> tryGet(String key) {
                return self.tryGet(prefix + key);
            }

            @Override
            public void put(String key, byte[] value) {
                self.put(prefix + key, value);
            }
        };
    }

    private record Reply(byte status, String message, byte[] payload) {}

    private interface Body {
        void write(Wire w) throws IOException;
    }

    /** One request on its own connection. OK and the expected NOT_FOUND/TIMEOUT return; FAILED throws. */
    private Reply request(byte op, Duration wait, Body body) {
        String host = server != null ? "127.0.0.1" : group.host();
        int port = server != null ? server.port() : group.port();
        Wire w = null;
        try {
            w = open(host, port, Duration.ofSeconds(10), group);
            // The reply comes after the wait; allow for it plus a heartbeat timeout of slack.
            w.socket.setSoTimeout((int) Math.min(Integer.MAX_VALUE, wait.toMillis() + timeouts.heartbeatTimeout().toMillis() + 10_000));
            w.out.writeByte(op);
            body.write(w);
            w.out.flush();
            byte status = w.in.readByte();
            if (status == Wire.OK) {
                byte[] payload = w.readBytes();
                return new Reply(status, "", payload);
            }
            String msg = w.readString();
            if (status == Wire.FAILED) {
                throw new CoordinationException(msg);
            }
            return new Reply(status, msg, null);
        } catch (IOException e) {
            throw new CoordinationException(group.describe() + ": lost the coordinator (process 0 at " + group.host() + ":" + group.port()
                    + ") during a request: " + e.getMessage(), e);
        } finally {
            if (w != null) {
                w.close();
            }
        }
    }

    /**
     * Ends this process's part cleanly: a last barrier (so nobody leaves while others still need
     * it), then {@link #leave()}.
     */
    public void finish(Duration timeout) {
        barrier("cohx/finish", timeout);
        leave();
    }

    /**
     * Says goodbye: this process stops for a reason every process reaches on its own (the run is
     * over, or the same configuration error everywhere), so its going is no failure. Process 0
     * keeps the coordinator up until the others have said goodbye too (a few seconds at most).
     */
    public void leave() {
        if (!leaving.compareAndSet(false, true)) {
            return;
        }
        heartbeat.interrupt();
        synchronized (session) {
            try {
                session.out.writeByte(Wire.GOODBYE);
                session.out.flush();
                session.in.readByte();
            } catch (IOException e) {
                // the coordinator is gone already; nothing to tell it
            }
            session.close();
        }
        if (server != null) {
            server.awaitAllLeft(Duration.ofSeconds(5));
            server.close();
        }
    }

    /**
     * Leaves without {@link #finish}/{@link #leave} having been called, i.e. because this process
     * failed: the session drops without goodbye, which fails the run for the others (naming this
     * process) rather than leaving them blocked in a collective that will never complete. Process
     * 0 keeps answering for two heartbeats so the others read the cause.
     */
    @Override
    public void close() {
        if (!leaving.compareAndSet(false, true)) {
            return;
        }
        heartbeat.interrupt();
        session.close();
        if (server != null) {
            try {
                Thread.sleep(timeouts.heartbeatInterval().multipliedBy(2));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            server.close();
        }
    }
}
