package headwater.broker;

import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.security.auth.AuthenticationContext;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.apache.kafka.common.security.auth.KafkaPrincipalBuilder;
import org.apache.kafka.common.security.auth.KafkaPrincipalSerde;
import org.apache.kafka.common.security.auth.SslAuthenticationContext;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLPeerUnverifiedException;

/**
 * {@code principal.builder.class}: reads the identity out of the client certificate's subject with
 * exactly the hub's rule ({@link IdentityRule}) and keeps the certificate's serial and expiry in the
 * principal for {@link HeadwaterAuthorizer}.
 *
 * <p>It replaces {@code ssl.principal.mapping.rules}: a regular expression over the subject string
 * mapped {@code CN=evil,CN=headwater-admin,...} to {@code headwater-admin}. Here the subject's RDNs
 * are read from its DER, and a subject that names no identity gets a principal that no ACL or super
 * user can match.
 *
 * <p>The serde ({@link KafkaPrincipalSerde}) matters because KRaft brokers forward some requests
 * (CreateTopics, CreateAcls, ...) to the controller in an envelope that carries the serialized
 * principal; the controller authorizes with the deserialized one, so every field must survive.
 */
public class HeadwaterPrincipalBuilder implements KafkaPrincipalBuilder, KafkaPrincipalSerde {
    private static final byte FORMAT_VERSION = 1;

    @Override
    public KafkaPrincipal build(AuthenticationContext context) {
        if (!(context instanceof SslAuthenticationContext ssl)) {
            return HeadwaterPrincipal.unidentified("", 0L);
        }
        Certificate[] chain;
        try {
            chain = ssl.session().getPeerCertificates();
        } catch (SSLPeerUnverifiedException e) {
            return HeadwaterPrincipal.unidentified("", 0L);
        }
        if (chain.length == 0 || !(chain[0] instanceof X509Certificate certificate)) {
            return HeadwaterPrincipal.unidentified("", 0L);
        }
        String serialHex = certificate.getSerialNumber().toString(16);
        long notAfterMs = certificate.getNotAfter().getTime();
        return IdentityRule.identityOf(certificate)
            .map(identity -> HeadwaterPrincipal.identified(identity, serialHex, notAfterMs))
            .orElseGet(() -> HeadwaterPrincipal.unidentified(serialHex, notAfterMs));
    }

    /** Version byte, then type, name, serial (modified UTF-8), notAfter (long) and identified (boolean). */
    @Override
    public byte[] serialize(KafkaPrincipal principal) throws SerializationException {
        if (!(principal instanceof HeadwaterPrincipal headwater)) {
            throw new SerializationException("Only HeadwaterPrincipal can be serialized, not " + principal.getClass());
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(FORMAT_VERSION);
            out.writeUTF(headwater.getPrincipalType());
            out.writeUTF(headwater.getName());
            out.writeUTF(headwater.serialHex());
            out.writeLong(headwater.notAfterMs());
            out.writeBoolean(headwater.identified());
        } catch (IOException e) {
            throw new SerializationException("Cannot serialize " + principal, e);
        }
        return bytes.toByteArray();
    }

    @Override
    public KafkaPrincipal deserialize(byte[] bytes) throws SerializationException {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
            byte version = in.readByte();
            if (version != FORMAT_VERSION) {
                throw new SerializationException("Unknown HeadwaterPrincipal format version " + version);
            }
            String type = in.readUTF();
            String name = in.readUTF();
            String serialHex = in.readUTF();
            long notAfterMs = in.readLong();
            boolean identified = in.readBoolean();
            if (!type.equals(KafkaPrincipal.USER_TYPE) || in.available() != 0) {
                throw new SerializationException("Not a serialized HeadwaterPrincipal");
            }
            return new HeadwaterPrincipal(name, serialHex, notAfterMs, identified);
        } catch (IOException | IllegalArgumentException e) {
            throw new SerializationException("Cannot deserialize a HeadwaterPrincipal", e);
        }
    }
}
