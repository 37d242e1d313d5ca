package headwater.broker;

import org.apache.kafka.common.security.auth.KafkaPrincipal;

/**
 * A {@code User:<identity>} principal that remembers the certificate it was authenticated with, so
 * the authorizer can refuse a revoked or expired certificate on every request, also on connections
 * opened before the revocation (TLS checks a certificate only once, at the handshake).
 *
 * <p>Equality and {@code toString()} are KafkaPrincipal's (type and name): ACLs, super users and the
 * audit log see a plain {@code User:<identity>}; StandardAuthorizer copies subclassed principals into
 * plain ones before matching ACLs.
 */
public final class HeadwaterPrincipal extends KafkaPrincipal {
    /** The name of every principal whose certificate names no identity: '!' is never in an identity. */
    public static final String UNIDENTIFIED_NAME = "!unidentified";

    private final String serialHex;
    private final long notAfterMs;
    private final boolean identified;

    /**
     * @param serialHex  the certificate serial as the hub writes it: lower-case hex, no leading zeros
     *                   ("" without a certificate)
     * @param notAfterMs the certificate's last valid instant, epoch milliseconds
     */
    HeadwaterPrincipal(String name, String serialHex, long notAfterMs, boolean identified) {
        super(USER_TYPE, name);
        // The invariant also guards deserialized principals: an unidentified one never carries a
        // name that could match an identity's ACLs or a super user.
        if (identified ? !IdentityRule.IDENTITY_NAME.matcher(name).matches() : !name.equals(UNIDENTIFIED_NAME)) {
            throw new IllegalArgumentException("principal name '" + name + "' does not fit identified=" + identified);
        }
        this.serialHex = serialHex;
        this.notAfterMs = notAfterMs;
        this.identified = identified;
    }

    static HeadwaterPrincipal identified(String identity, String serialHex, long notAfterMs) {
        return new HeadwaterPrincipal(identity, serialHex, notAfterMs, true);
    }

    static HeadwaterPrincipal unidentified(String serialHex, long notAfterMs) {
        return new HeadwaterPrincipal(UNIDENTIFIED_NAME, serialHex, notAfterMs, false);
    }

    public String serialHex() {
        return serialHex;
    }

    public long notAfterMs() {
        return notAfterMs;
    }

    public boolean identified() {
        return identified;
    }
}
