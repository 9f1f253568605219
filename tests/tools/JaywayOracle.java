// Differential oracle: the real Jayway JsonPath engine (Debian's libjsonpath-java).
// Reads lines "PATH<TAB>JSON-DOCUMENT" on stdin; prints for each line either the compact JSON
// result or "ERROR<TAB>message". Run:
//   java -cp /usr/share/java/json-path.jar:/usr/share/java/json-smart.jar:\
//     /usr/share/java/accessors-smart.jar:/usr/share/java/asm.jar:/usr/share/java/slf4j-api.jar:\
//     /usr/share/java/slf4j-nop.jar tests/tools/JaywayOracle.java
import com.jayway.jsonpath.Configuration;
import com.jayway.jsonpath.JsonPath;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import net.minidev.json.JSONValue;

public class JaywayOracle {
  public static void main(String[] args) throws Exception {
    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    PrintStream out = new PrintStream(System.out, false, "UTF-8");
    Configuration conf = Configuration.defaultConfiguration();
    String line;
    while ((line = in.readLine()) != null) {
      int tab = line.indexOf('\t');
      if (tab < 0) {
        out.println("ERROR\tmalformed input line");
        continue;
      }
      String path = line.substring(0, tab);
      String doc = line.substring(tab + 1);
      try {
        Object parsed = conf.jsonProvider().parse(doc);
        Object result = JsonPath.compile(path).read(parsed, conf);
        out.println(JSONValue.toJSONString(result));
      } catch (Throwable e) {
        String message = String.valueOf(e.getMessage()).replace('\n', ' ').replace('\t', ' ');
        out.println("ERROR\t" + e.getClass().getSimpleName() + ": " + message);
      }
    }
    out.flush();
  }
}
