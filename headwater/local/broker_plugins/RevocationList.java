package headwater.broker;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * The hub's revocation list file, re-read whenever it changes (format and writer:
 * registry/ca/revocation_list.py). A daemon thread looks at the file's identity, mtime and size every
 * {@code reloadMs}; the hub replaces the file atomically, so a changed file is read once, whole.
 *
 * <p>A file that is missing, unreadable or not a complete list (header, {@code revoked} lines,
 * {@code end <count>}) is a problem, logged at ERROR once per distinct problem:
 * <ul>
 *   <li>after a complete list was read, that last good list stays in force (fail static): a broken
 *       file must not lift revocations, nor lock everyone out of a running cluster;</li>
 *   <li>if no complete list was ever read since start, {@link #loaded()} stays false and the
 *       authorizer refuses everyone but the super users (fail closed).</li>
 * </ul>
 *
 * <p>A node that is broker and controller creates two authorizers; they share one watcher per file,
 * so both always judge by the same list (a revocation cannot reach Produce but not CreateTopics) and
 * each problem is logged once.
 */
final class RevocationList implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RevocationList.class);
    private static final String HEADER = "headwater-revocations 1";
    /** As the hub writes serials: lower-case hex without leading zeros, so a listed serial matches. */
    private static final Pattern SERIAL_HEX = Pattern.compile("^(?:0|[1-9a-f][0-9a-f]*)$");
    /** The watchers of this JVM by file; guarded by the class lock, as is {@link #users}. */
    private static final Map<Path, RevocationList> WATCHED = new HashMap<>();

    private final Path file;
    private final Thread reloader;
    private int users;
    /** Serial to the epoch millisecond it is revoked from; null until a complete list was read. */
    private volatile Map<String, Long> revokedFromMs;
    private Instant loadedAt;
    private String lastSeenVersion;
    private String lastProblem;

    private RevocationList(Path file, long reloadMs) {
        this.file = file;
        this.reloader = new Thread(() -> reloadEvery(reloadMs), "headwater-revocation-list-reloader");
        this.reloader.setDaemon(true);
    }

    /** The watcher of `file`: the first caller reads the list now (so the broker starts enforcing
     *  it) and starts re-reading it every `reloadMs`; later callers share that watcher. */
    static synchronized RevocationList watch(Path file, long reloadMs) {
        Path key = file.toAbsolutePath().normalize();
        RevocationList list = WATCHED.get(key);
        if (list == null) {
            list = new RevocationList(key, reloadMs);
            list.reloadIfChanged();
            list.reloader.start();
            WATCHED.put(key, list);
        }
        list.users += 1;
        return list;
    }

    /** Whether a complete list was read at least once since start. */
    boolean loaded() {
        return revokedFromMs != null;
    }

    boolean isRevoked(String serialHex, long nowMs) {
        Map<String, Long> current = revokedFromMs;
        Long fromMs = current == null ? null : current.get(serialHex);
        return fromMs != null && fromMs <= nowMs;
    }

    /** Stops the watcher once its last user closed it. */
    @Override
    public void close() {
        synchronized (RevocationList.class) {
            users -= 1;
            if (users == 0) {
                WATCHED.remove(file);
                reloader.interrupt();
            }
        }
    }

    private void reloadEvery(long reloadMs) {
        while (true) {
            try {
                Thread.sleep(reloadMs);
            } catch (InterruptedException e) {
                return;
            }
            reloadIfChanged();
        }
    }

    /** Called from one thread at a time: first by {@link #watch}, then only by the reloader. */
    private void reloadIfChanged() {
        String version;
        try {
            version = versionOf(file);
        } catch (NoSuchFileException e) {
            reportProblem("missing", "the file does not exist");
            return;
        } catch (IOException | RuntimeException e) {
            reportProblem("unreadable", e.toString());
            return;
        }
        if (version.equals(lastSeenVersion)) {
            return;
        }
        lastSeenVersion = version;
        try {
            revokedFromMs = parse(Files.readString(file));
            loadedAt = Instant.now();
            lastProblem = null;
            log.info("Loaded the revocation list {}: {} revoked certificate(s)", file, revokedFromMs.size());
        } catch (IOException | RuntimeException e) {
            reportProblem(version, e.toString());
        }
    }

    /** Changes whenever the hub replaces the file (a new inode) or anyone rewrites it in place. */
    private static String versionOf(Path file) throws IOException {
        BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
        return attributes.fileKey() + "/" + attributes.lastModifiedTime().to(TimeUnit.NANOSECONDS) + "/" + attributes.size();
    }

    private void reportProblem(String version, String problem) {
        lastSeenVersion = version;
        if (problem.equals(lastProblem)) {
            return;
        }
        lastProblem = problem;
        Map<String, Long> current = revokedFromMs;
        if (current == null) {
            log.error("The revocation list {} cannot be read ({}) and none was read since start: refusing every "
                + "request except from super.users until it is complete", file, problem);
        } else {
            log.error("The revocation list {} cannot be read ({}): still enforcing the list read at {} "
                + "({} revoked certificate(s))", file, problem, loadedAt, current.size());
        }
    }

    /** The serials of a complete list; IllegalArgumentException for anything else. */
    static Map<String, Long> parse(String text) {
        List<String> lines = text.lines().toList();
        if (lines.size() < 3 || !lines.get(0).equals(HEADER) || !lines.get(1).startsWith("generated ")) {
            throw new IllegalArgumentException("missing header");
        }
        List<String> body = lines.subList(2, lines.size() - 1);
        if (!lines.get(lines.size() - 1).equals("end " + body.size())) {
            throw new IllegalArgumentException("missing or wrong end line");
        }
        Map<String, Long> revoked = new HashMap<>();
        for (String line : body) {
            String[] words = line.split(" ", -1);
            if (words.length != 3 || !words[0].equals("revoked") || !SERIAL_HEX.matcher(words[1]).matches()) {
                throw new IllegalArgumentException("unexpected line '" + line + "'");
            }
            // NumberFormatException is an IllegalArgumentException; a serial listed twice counts from the earlier.
            revoked.merge(words[1], Long.parseLong(words[2]), Math::min);
        }
        return Map.copyOf(revoked);
    }
}
