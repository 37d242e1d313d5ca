import headwater.broker.IdentityRule;

import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.HexFormat;

/**
 * Reads DER-encoded certificates, one hex line each, and prints for each the identity its subject
 * names under the broker's rule (IdentityRule.identityOf, as the principal builder calls it), "-"
 * when it names none, or "!<error>" when Java cannot read the certificate.
 */
public class IdentityRuleProbe {
    public static void main(String[] args) throws Exception {
        CertificateFactory factory = CertificateFactory.getInstance("X.509");
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
        for (String line = in.readLine(); line != null; line = in.readLine()) {
            try {
                byte[] der = HexFormat.of().parseHex(line.trim());
                X509Certificate certificate = (X509Certificate) factory.generateCertificate(new ByteArrayInputStream(der));
                out.println(IdentityRule.identityOf(certificate).orElse("-"));
            } catch (GeneralSecurityException | IllegalArgumentException e) {
                out.println("!" + String.valueOf(e.getMessage()).replace('\n', ' '));
            }
        }
        out.flush();
    }
}
