import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaCompatibility.Incompatibility;
import org.apache.avro.SchemaCompatibility.SchemaCompatibilityType;
import org.apache.avro.SchemaCompatibility.SchemaPairCompatibility;

/**
 * Oracle for tests/property/test_avro_compatibility_against_java.py: Apache Avro's own reader/writer check.
 *
 * <p>stdin: one JSON object per line, {"id": ..., "reader": "<schema text>", "writer": "<schema text>"}.
 * stdout: one JSON object per input line, in order, {"id": ..., "compatible": bool, "messages": [...]},
 * or {"id": ..., "error": "..."} when Java refuses to parse a schema or the check throws. One JVM
 * serves every pair, because starting a JVM per pair would make a thousand-pair run take minutes.
 */
public final class AvroCompatibilityHarness {
  private static final ObjectMapper JSON = new ObjectMapper();

  private AvroCompatibilityHarness() {}

  public static void main(String[] args) throws IOException {
    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    BufferedWriter out =
        new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8));
    String line;
    while ((line = in.readLine()) != null) {
      if (line.isBlank()) {
        continue;
      }
      out.write(JSON.writeValueAsString(answer(JSON.readTree(line))));
      out.newLine();
    }
    out.flush();
  }

  private static ObjectNode answer(JsonNode request) {
    ObjectNode response = JSON.createObjectNode();
    response.set("id", request.get("id"));
    Schema reader;
    Schema writer;
    try {
      // A fresh parser per schema: a shared one would remember names and reject the second
      // definition of the same record ("Can't redefine") that every reader/writer pair has.
      reader = new Schema.Parser().parse(request.get("reader").asText());
      writer = new Schema.Parser().parse(request.get("writer").asText());
    } catch (RuntimeException exception) {
      response.put("error", exception.getClass().getSimpleName() + ": " + exception.getMessage());
      return response;
    }
    SchemaPairCompatibility result;
    try {
      result = SchemaCompatibility.checkReaderWriterCompatibility(reader, writer);
    } catch (RuntimeException exception) {
      // e.g. a reader field whose aliases match several writer fields: answer this pair, go on.
      response.put("error", "check failed: " + exception);
      return response;
    }
    response.put("compatible", result.getType() == SchemaCompatibilityType.COMPATIBLE);
    ArrayNode messages = response.putArray("messages");
    for (Incompatibility incompatibility : result.getResult().getIncompatibilities()) {
      messages.add(
          incompatibility.getType()
              + " at "
              + incompatibility.getLocation()
              + ": "
              + incompatibility.getMessage());
    }
    return response;
  }
}
