package io.cohx.serve;

import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.GracefulHandler;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.util.thread.VirtualThreadPool;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;

/**
 * The HTTP/1.1 server under {@link LmServer}: Jetty 12's core API (no servlets), every request
 * handled on its own virtual thread (it blocks while the model works), keep-alive connections, and
 * a graceful stop: {@link #close} stops accepting, answers new requests 503, and waits up to
 * {@code drain} for the requests in flight (streams included) before closing connections.
 *
 * <p>Why Jetty rather than the JDK's {@code com.sun.net.httpserver}: the JDK server reads a body
 * only as the handler asks and resets connections it closes early, has no graceful drain, and is
 * not meant for serving traffic. Jetty is made and kept for exactly this, its core API is small,
 * and it runs handlers on virtual threads.
 */
final class WebServer implements AutoCloseable {
    /** Handles one exchange on its virtual thread; an exception is Jetty's to report (500). */
    @FunctionalInterface
    interface Endpoint {
        void handle(Http exchange) throws Exception;
    }

    private final Server server;
    private final ServerConnector connector;

    WebServer(String host, int port, Duration drain, Endpoint handler) {
        QueuedThreadPool threads = new QueuedThreadPool();
        threads.setName("cohx-http");
        VirtualThreadPool virtual = new VirtualThreadPool();
        virtual.setName("cohx-http-request");
        threads.setVirtualThreadsExecutor(virtual);
        server = new Server(threads);
        HttpConfiguration config = new HttpConfiguration();
        config.setSendServerVersion(false);
        connector = new ServerConnector(server, new HttpConnectionFactory(config));
        connector.setHost(host);
        connector.setPort(port);
        // A request may wait in the queue, or between tokens, for a long time without any bytes moving.
        connector.setIdleTimeout(Duration.ofMinutes(10).toMillis());
        server.addConnector(connector);
        server.setHandler(new GracefulHandler(new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) {
                try {
                    handler.handle(new Http(request, response));
                    callback.succeeded();
                } catch (Throwable t) {
                    callback.failed(t);
                }
                return true;
            }
        }));
        server.setStopTimeout(drain.toMillis());
        try {
            server.start();
        } catch (Exception e) {
            try {
                server.stop();
            } catch (Exception ignored) {
                // it did not start; nothing to stop
            }
            throw new UncheckedIOException("cannot listen on " + host + ":" + port + ": " + e.getMessage()
                    + " (is another server on that port? pass --port)", e instanceof IOException io ? io : new IOException(e));
        }
    }

    int port() {
        return connector.getLocalPort();
    }

    /** Stops accepting, lets the requests in flight finish (up to the drain time), then closes every connection. */
    @Override
    public void close() {
        try {
            server.stop();
        } catch (Exception e) {
            throw new IllegalStateException("stopping the HTTP server failed: " + e.getMessage(), e);
        }
    }
}
