package headwater.broker;

import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.apache.kafka.metadata.authorizer.StandardAuthorizer;
import org.apache.kafka.server.authorizer.Action;
import org.apache.kafka.server.authorizer.AuthorizableRequestContext;
import org.apache.kafka.server.authorizer.AuthorizationResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * {@code authorizer.class.name}: StandardAuthorizer (super.users, ACLs from the KRaft metadata log),
 * behind a check that runs first, on every authorized request, super users included: a principal
 * whose certificate names no identity, is past its notAfter, or whose serial is on the hub's
 * revocation list (from its revoked-at instant on) is denied every action. Checking per request, not
 * per handshake, is what refuses a revoked certificate on a connection opened before its revocation.
 *
 * <p>Configuration (custom keys reach {@link #configure}):
 * <ul>
 *   <li>{@code headwater.revocation.list.file} (required): the list the hub writes;</li>
 *   <li>{@code headwater.revocation.reload.ms} (default 1000): how often the file is checked for changes.</li>
 * </ul>
 * While no complete list was read since start, everyone but super.users (the broker) is refused: fail
 * closed. Once one was read, a later broken file keeps the last good list in force: fail static
 * ({@link RevocationList}).
 *
 * <p>A KRaft node that is broker and controller creates two authorizers (one per role); they share the
 * file's watcher.
 */
public class HeadwaterAuthorizer extends StandardAuthorizer {
    static final String LIST_FILE_CONFIG = "headwater.revocation.list.file";
    static final String RELOAD_MS_CONFIG = "headwater.revocation.reload.ms";
    private static final long DEFAULT_RELOAD_MS = 1000;
    private static final Logger auditLog = LoggerFactory.getLogger("kafka.authorizer.logger");

    private volatile Set<String> superUsers = Set.of();
    private volatile RevocationList revocations;

    @Override
    public void configure(Map<String, ?> configs) {
        super.configure(configs);
        Object superUsersValue = configs.get(SUPER_USERS_CONFIG);
        superUsers = superUsersValue == null ? Set.of() : Arrays.stream(superUsersValue.toString().split(";"))
            .map(String::trim)
            .filter(value -> !value.isEmpty())
            .collect(Collectors.toUnmodifiableSet());
        Object file = configs.get(LIST_FILE_CONFIG);
        if (file == null || file.toString().isBlank()) {
            throw new ConfigException(LIST_FILE_CONFIG, file, "HeadwaterAuthorizer needs the hub's revocation list");
        }
        Object reloadMs = configs.get(RELOAD_MS_CONFIG);
        revocations = RevocationList.watch(
            Path.of(file.toString()),
            reloadMs == null ? DEFAULT_RELOAD_MS : Long.parseLong(reloadMs.toString().trim()));
    }

    @Override
    public List<AuthorizationResult> authorize(AuthorizableRequestContext context, List<Action> actions) {
        String refusal = refusal(context.principal());
        if (refusal == null) {
            return super.authorize(context, actions);
        }
        if (actions.stream().anyMatch(Action::logIfDenied)) {
            int type = context.requestType();
            auditLog.info("Principal = {} is Denied all {} action(s) of request {}: {}", context.principal(),
                actions.size(), ApiKeys.hasId(type) ? ApiKeys.forId(type).name : String.valueOf(type), refusal);
        }
        return Collections.nCopies(actions.size(), AuthorizationResult.DENIED);
    }

    /** Kafka asks this instead of {@link #authorize} for some requests (e.g. an idempotent producer's
     *  InitProducerId: WRITE on any topic), so it needs the same check. */
    @Override
    public AuthorizationResult authorizeByResourceType(
            AuthorizableRequestContext context, AclOperation operation, ResourceType resourceType) {
        if (refusal(context.principal()) != null) {
            return AuthorizationResult.DENIED;
        }
        return super.authorizeByResourceType(context, operation, resourceType);
    }

    /** Why `principal` is denied whatever its ACLs say, or null when the ACLs decide. */
    private String refusal(KafkaPrincipal principal) {
        long nowMs = System.currentTimeMillis();
        if (principal instanceof HeadwaterPrincipal certified) {
            if (!certified.identified()) {
                return "certificate " + certified.serialHex() + " names no identity";
            }
            if (nowMs > certified.notAfterMs()) {
                return "certificate " + certified.serialHex() + " has expired";
            }
            if (revocations.isRevoked(certified.serialHex(), nowMs)) {
                return "certificate " + certified.serialHex() + " is revoked";
            }
        }
        if (!revocations.loaded() && !superUsers.contains(principal.getPrincipalType() + ":" + principal.getName())) {
            return "no complete revocation list was read since start (only super.users are served)";
        }
        return null;
    }

    @Override
    public void close() throws IOException {
        RevocationList current = revocations;
        if (current != null) {
            current.close();
        }
        super.close();
    }
}
