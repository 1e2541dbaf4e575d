package io.cohx.eval.human;

import io.cohx.eval.EvalException;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * The human-evaluation database: one SQLite file holding the items (prompt and both answers),
 * the two model names, and every vote. A vote is committed (WAL journal, {@code synchronous=FULL})
 * before the rater's page hears back, so it survives a crash or restart; each rater votes at most
 * once per item (the primary key says so, and the error says which vote is already there).
 *
 * <p>Blinding: which model's answer a rater sees first for an item is decided by a hash of the
 * rater, the item and a random secret drawn when the database is made, so it looks random to
 * raters, differs between raters, and stays the same when the page is reloaded.
 *
 * <p>One connection, used under this object's lock: votes from many raters at once are applied
 * one after another, none lost.
 */
public final class VoteStore implements AutoCloseable {
    /** What a rater chose, in screen terms. */
    public enum Choice { FIRST, TIE, SECOND }

    /** A stored vote: {@code winner} is "a", "b" or "tie"; {@code first} is the model shown first. */
    public record Vote(String rater, int item, String first, String winner, String created) {}

    /** A vote that cannot be taken (unknown item, second vote); {@code status} is the HTTP status to answer. */
    public static final class Rejected extends EvalException {
        private final int status;

        public Rejected(int status, String message) {
            super(message);
            this.status = status;
        }

        public int status() {
            return status;
        }
    }

    private final Connection db;
    private final Path file;
    private final String modelA;
    private final String modelB;
    private final String secret;
    private final int items;

    private VoteStore(Connection db, Path file) throws SQLException {
        this.db = db;
        this.file = file;
        this.modelA = meta("model_a");
        this.modelB = meta("model_b");
        this.secret = meta("secret");
        try (Statement s = db.createStatement(); ResultSet r = s.executeQuery("SELECT count(*) FROM items")) {
            this.items = r.getInt(1);
        }
    }

    /**
     * Opens (or creates) the database {@code file} for {@code items}. A new file gets the items;
     * an existing one must hold the same items and model names (votes are only comparable on the
     * same outputs), else the error says so.
     */
    public static VoteStore open(Path file, HumanItems items) {
        try {
            Connection db = connect(file);
            try (Statement s = db.createStatement()) {
                s.executeUpdate("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
                s.executeUpdate("CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, prompt TEXT NOT NULL,"
                        + " output_a TEXT NOT NULL, output_b TEXT NOT NULL)");
                s.executeUpdate("CREATE TABLE IF NOT EXISTS votes (rater TEXT NOT NULL, item INTEGER NOT NULL REFERENCES items(id),"
                        + " first TEXT NOT NULL CHECK (first IN ('a', 'b')), winner TEXT NOT NULL CHECK (winner IN ('a', 'b', 'tie')),"
                        + " created TEXT NOT NULL, PRIMARY KEY (rater, item))");
            }
            String hash = hash(items);
            String stored = read(db, "items_sha256");
            if (stored == null) {
                db.setAutoCommit(false);
                try (PreparedStatement ins = db.prepareStatement("INSERT INTO items VALUES (?, ?, ?, ?)")) {
                    for (HumanItems.Item it : items.items()) {
                        ins.setInt(1, it.id());
                        ins.setString(2, it.prompt());
                        ins.setString(3, it.outputA());
                        ins.setString(4, it.outputB());
                        ins.addBatch();
                    }
                    ins.executeBatch();
                }
                byte[] secret = new byte[16];
                new SecureRandom().nextBytes(secret);
                write(db, "items_sha256", hash);
                write(db, "model_a", items.modelA());
                write(db, "model_b", items.modelB());
                write(db, "secret", HexFormat.of().formatHex(secret));
                db.commit();
                db.setAutoCommit(true);
            } else {
                String a = read(db, "model_a");
                String b = read(db, "model_b");
                if (!stored.equals(hash) || !items.modelA().equals(a) || !items.modelB().equals(b)) {
                    db.close();
                    throw new EvalException(file + " holds votes on other outputs or model names (models '" + a + "' and '" + b
                            + "'); use the same two files and names, or another --db");
                }
            }
            return new VoteStore(db, file);
        } catch (SQLException e) {
            throw new EvalException("cannot open the vote database " + file + ": " + e.getMessage(), e);
        }
    }

    /** Opens an existing database to read results. */
    public static VoteStore openExisting(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new EvalException(file + ": no such vote database (cohx eval human --db FILE makes one)");
        }
        try {
            Connection db = connect(file);
            if (read(db, "items_sha256") == null) {
                db.close();
                throw new EvalException(file + " is not a cohx human-evaluation database (no items)");
            }
            return new VoteStore(db, file);
        } catch (SQLException e) {
            throw new EvalException(file + " is not a readable SQLite database: " + e.getMessage(), e);
        }
    }

    private static Connection connect(Path file) throws SQLException {
        Connection db = DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath());
        try (Statement s = db.createStatement()) {
            s.execute("PRAGMA journal_mode=WAL");
            s.execute("PRAGMA synchronous=FULL");
            s.execute("PRAGMA busy_timeout=10000");
            s.execute("PRAGMA foreign_keys=ON");
        }
        return db;
    }

    private static String read(Connection db, String key) throws SQLException {
        try (Statement s = db.createStatement()) {
            s.executeUpdate("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
        }
        try (PreparedStatement q = db.prepareStatement("SELECT value FROM meta WHERE key = ?")) {
            q.setString(1, key);
            try (ResultSet r = q.executeQuery()) {
                return r.next() ? r.getString(1) : null;
            }
        }
    }

    private static void write(Connection db, String key, String value) throws SQLException {
        try (PreparedStatement q = db.prepareStatement("INSERT INTO meta VALUES (?, ?)")) {
            q.setString(1, key);
            q.setString(2, value);
            q.executeUpdate();
        }
    }

    private String meta(String key) throws SQLException {
        return read(db, key);
    }

    static String hash(HumanItems items) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (HumanItems.Item it : items.items()) {
                for (String s : List.of(it.prompt(), it.outputA(), it.outputB())) {
                    byte[] b = s.getBytes(StandardCharsets.UTF_8);
                    md.update(Integer.toString(b.length).getBytes(StandardCharsets.US_ASCII));
                    md.update((byte) ':');
                    md.update(b);
                }
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public Path file() {
        return file;
    }

    public String modelA() {
        return modelA;
    }

    public String modelB() {
        return modelB;
    }

    public int itemCount() {
        return items;
    }

    /** The model ("a" or "b") whose answer {@code rater} sees first on {@code item}. */
    public String firstFor(String rater, int item) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest((secret + "\n" + rater + "\n" + item).getBytes(StandardCharsets.UTF_8));
            return (d[0] & 1) == 0 ? "a" : "b";
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public synchronized HumanItems.Item item(int id) {
        try (PreparedStatement q = db.prepareStatement("SELECT prompt, output_a, output_b FROM items WHERE id = ?")) {
            q.setInt(1, id);
            try (ResultSet r = q.executeQuery()) {
                if (!r.next()) {
                    throw new Rejected(404, "unknown item " + id + "; items are 1.." + items);
                }
                return new HumanItems.Item(id, r.getString(1), r.getString(2), r.getString(3));
            }
        } catch (SQLException e) {
            throw new EvalException("reading item " + id + " from " + file + ": " + e.getMessage(), e);
        }
    }

    /** The first item {@code rater} has not voted on, or -1 when they have voted on all. */
    public synchronized int nextFor(String rater) {
        try (PreparedStatement q = db.prepareStatement(
                "SELECT min(id) FROM items WHERE id NOT IN (SELECT item FROM votes WHERE rater = ?)")) {
            q.setString(1, rater);
            try (ResultSet r = q.executeQuery()) {
                int id = r.getInt(1);
                return r.wasNull() ? -1 : id;
            }
        } catch (SQLException e) {
            throw new EvalException("reading votes from " + file + ": " + e.getMessage(), e);
        }
    }

    /** How many items {@code rater} has voted on. */
    public synchronized int votedBy(String rater) {
        try (PreparedStatement q = db.prepareStatement("SELECT count(*) FROM votes WHERE rater = ?")) {
            q.setString(1, rater);
            try (ResultSet r = q.executeQuery()) {
                return r.getInt(1);
            }
        } catch (SQLException e) {
            throw new EvalException("reading votes from " + file + ": " + e.getMessage(), e);
        }
    }

    /** Records {@code rater}'s vote on {@code item} (committed before returning); returns it. */
    public synchronized Vote vote(String rater, int item, Choice choice) {
        checkRater(rater);
        if (item < 1 || item > items) {
            throw new Rejected(404, "unknown item " + item + "; items are 1.." + items);
        }
        String first = firstFor(rater, item);
        String second = first.equals("a") ? "b" : "a";
        String winner = switch (choice) {
            case FIRST -> first;
            case SECOND -> second;
            case TIE -> "tie";
        };
        String created = Instant.now().toString();
        try (PreparedStatement ins = db.prepareStatement("INSERT INTO votes VALUES (?, ?, ?, ?, ?)")) {
            ins.setString(1, rater);
            ins.setInt(2, item);
            ins.setString(3, first);
            ins.setString(4, winner);
            ins.setString(5, created);
            ins.executeUpdate();
        } catch (SQLException e) {
            if (e.getMessage() != null && e.getMessage().contains("UNIQUE")) {
                throw new Rejected(409, "rater '" + rater + "' has already voted on item " + item + "; a vote cannot be changed");
            }
            throw new EvalException("storing the vote in " + file + ": " + e.getMessage(), e);
        }
        return new Vote(rater, item, first, winner, created);
    }

    /** Every vote, in the order they were cast. */
    public synchronized List<Vote> votes() {
        List<Vote> out = new ArrayList<>();
        try (Statement s = db.createStatement();
             ResultSet r = s.executeQuery("SELECT rater, item, first, winner, created FROM votes ORDER BY rowid")) {
            while (r.next()) {
                out.add(new Vote(r.getString(1), r.getInt(2), r.getString(3), r.getString(4), r.getString(5)));
            }
        } catch (SQLException e) {
            throw new EvalException("reading votes from " + file + ": " + e.getMessage(), e);
        }
        return out;
    }

    /** A rater name: 1..64 characters, no control characters. */
    public static void checkRater(String rater) {
        if (rater == null || rater.isBlank() || rater.length() > 64 || rater.chars().anyMatch(Character::isISOControl)) {
            throw new Rejected(400, "'rater' must be a name of 1..64 printable characters");
        }
    }

    @Override
    public synchronized void close() {
        try {
            db.close();
        } catch (SQLException e) {
            throw new EvalException("closing " + file + ": " + e.getMessage(), e);
        }
    }
}
