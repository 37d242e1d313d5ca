package headwater.broker;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The hub's rule (registry/ca/identity_rule.py) for the identity a certificate subject names: exactly
 * one RDN holds a common name, that RDN holds nothing else (no {@code CN=a+CN=b}, no {@code CN=a+O=x}),
 * and its value is a string that is a lower-case DNS label (so no escaped comma, NUL or upper case).
 *
 * <p>It walks the subject's DER as the certificate holds it, not a string form: Java's RFC 2253 form
 * ({@code X500Principal.getName}) decodes every string type as UTF-8, so a BMPString whose UTF-16 code
 * units happen to be the bytes of {@code orders-svc} would read as {@code orders-svc} there, while the
 * hub (Python's cryptography) reads five CJK characters; and {@code X500Principal.getEncoded()}
 * re-sorts multi-valued RDNs. Values are decoded as cryptography 50 decodes them, and what it refuses
 * to parse (another value type, an RDN without attributes, a SET out of DER order, a non-minimal
 * length) names no identity here either. tests/integration/test_broker_identity_rule.py compares both.
 */
public final class IdentityRule {
    /** Same as IDENTITY_NAME_PATTERN in registry/ca/identity_rule.py. */
    static final Pattern IDENTITY_NAME = Pattern.compile("^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$");

    private static final int ANY = -1;
    private static final int SEQUENCE = 0x30;
    private static final int SET = 0x31;
    private static final int OBJECT_IDENTIFIER = 0x06;
    private static final int EXPLICIT_VERSION = 0xa0;
    private static final byte[] COMMON_NAME = {0x55, 0x04, 0x03}; // 2.5.4.3
    /** Value tag to the charset cryptography decodes it with: UniversalString as UTF-32, BMPString
     *  as UTF-16, the other types it reads (OCTET, UTF8, Numeric, Printable, T61, IA5, Visible String,
     *  UTCTime, GeneralizedTime) as UTF-8. Its only other type, BIT STRING, is no string. */
    private static final Map<Integer, Charset> STRING_TYPES = Map.ofEntries(
        Map.entry(0x04, StandardCharsets.UTF_8),
        Map.entry(0x0c, StandardCharsets.UTF_8),
        Map.entry(0x12, StandardCharsets.UTF_8),
        Map.entry(0x13, StandardCharsets.UTF_8),
        Map.entry(0x14, StandardCharsets.UTF_8),
        Map.entry(0x16, StandardCharsets.UTF_8),
        Map.entry(0x17, StandardCharsets.UTF_8),
        Map.entry(0x18, StandardCharsets.UTF_8),
        Map.entry(0x1a, StandardCharsets.UTF_8),
        Map.entry(0x1c, Charset.forName("UTF-32BE")),
        Map.entry(0x1e, StandardCharsets.UTF_16BE));

    private IdentityRule() {
    }

    /** The identity the certificate's subject names, or empty when it names none. */
    public static Optional<String> identityOf(X509Certificate certificate) {
        try {
            return identityOf(subjectOf(certificate.getTBSCertificate()));
        } catch (CertificateEncodingException | IllegalArgumentException | CharacterCodingException e) {
            return Optional.empty();
        }
    }

    /** The subject field of a TBSCertificate: [0] version (optional), serialNumber, signature, issuer,
     *  validity, subject, ... (RFC 5280 4.1); Java keeps these bytes as they came. */
    private static Der subjectOf(byte[] tbsCertificate) {
        List<Der> fields = Der.single(tbsCertificate, SEQUENCE).children(ANY);
        int subject = !fields.isEmpty() && fields.get(0).tag == EXPLICIT_VERSION ? 5 : 4;
        if (fields.size() <= subject || fields.get(subject).tag != SEQUENCE) {
            throw new IllegalArgumentException("no subject");
        }
        return fields.get(subject);
    }

    private static Optional<String> identityOf(Der subject) throws CharacterCodingException {
        Der commonName = null;
        int rdnsWithCommonName = 0;
        for (Der rdn : subject.children(SET)) {
            List<Der> attributes = rdn.children(SEQUENCE);
            if (attributes.isEmpty() || !inDerOrder(attributes)) {
                return Optional.empty();
            }
            for (Der attribute : attributes) {
                List<Der> typeAndValue = attribute.children(ANY);
                if (typeAndValue.size() != 2 || typeAndValue.get(0).tag != OBJECT_IDENTIFIER) {
                    return Optional.empty();
                }
                if (Arrays.equals(typeAndValue.get(0).content, COMMON_NAME)) {
                    // Counts RDNs; one holding anything besides this common name names no identity.
                    rdnsWithCommonName += 1;
                    commonName = attributes.size() == 1 ? typeAndValue.get(1) : null;
                    break;
                }
            }
        }
        if (rdnsWithCommonName != 1 || commonName == null || !STRING_TYPES.containsKey(commonName.tag)) {
            return Optional.empty();
        }
        Charset charset = STRING_TYPES.get(commonName.tag);
        String value = charset.newDecoder().decode(ByteBuffer.wrap(commonName.content)).toString();
        return IDENTITY_NAME.matcher(value).matches() ? Optional.of(value) : Optional.empty();
    }

    /** DER sorts the elements of a SET OF by their encodings (X.690 11.6). */
    private static boolean inDerOrder(List<Der> elements) {
        for (int i = 1; i < elements.size(); i++) {
            if (Arrays.compareUnsigned(elements.get(i - 1).encoding, elements.get(i).encoding) > 0) {
                return false;
            }
        }
        return true;
    }

    /** One DER element: just enough DER to walk an X.500 name (single-byte tags, minimal definite lengths). */
    private record Der(int tag, byte[] content, byte[] encoding) {
        static Der single(byte[] bytes, int tag) {
            List<Der> elements = parse(bytes, tag);
            if (elements.size() != 1) {
                throw new IllegalArgumentException("expected one element");
            }
            return elements.get(0);
        }

        /** The elements inside this one, each of `tag` (-1: any). */
        List<Der> children(int tag) {
            return parse(content, tag);
        }

        private static List<Der> parse(byte[] bytes, int expectedTag) {
            List<Der> elements = new ArrayList<>();
            int at = 0;
            while (at < bytes.length) {
                int start = at;
                int tag = bytes[at++] & 0xff;
                if ((tag & 0x1f) == 0x1f || (expectedTag != -1 && tag != expectedTag) || at == bytes.length) {
                    throw new IllegalArgumentException("unexpected tag " + tag);
                }
                int length = bytes[at++] & 0xff;
                if (length > 0x7f) {
                    int octets = length & 0x7f;
                    if (octets == 0 || octets > 3 || octets > bytes.length - at || bytes[at] == 0) {
                        throw new IllegalArgumentException("unsupported length");
                    }
                    length = 0;
                    for (int i = 0; i < octets; i++) {
                        length = (length << 8) | (bytes[at++] & 0xff);
                    }
                    if (length < 0x80) {
                        throw new IllegalArgumentException("non-minimal length");
                    }
                }
                if (length > bytes.length - at) {
                    throw new IllegalArgumentException("truncated element");
                }
                elements.add(new Der(
                    tag, Arrays.copyOfRange(bytes, at, at + length), Arrays.copyOfRange(bytes, start, at + length)));
                at += length;
            }
            return elements;
        }
    }
}
